package dev.timbre.lambda;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import dev.timbre.config.TimbreConfig;
import dev.timbre.notify.OutboxPublisher;
import dev.timbre.pipeline.BatchOutcome;
import dev.timbre.pipeline.BatchProcessor;
import dev.timbre.pipeline.PipelineMetrics;
import dev.timbre.pipeline.QueueMessage;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import org.slf4j.MDC;

/**
 * The Lambda entry point: an SQS batch in, the records to redeliver out (partial batch response; the event
 * source mapping needs {@code FunctionResponseTypes: [ReportBatchItemFailures]}).
 *
 * <p>Thin by design. Everything costly (configuration, connection pool, S3/SQS/Qdrant clients, model weights,
 * the worker pool) is built once per container by {@link ContainerRuntime}, during Lambda's init phase when the
 * runtime constructs this class, and reused by every warm invocation. {@code handleRequest} only maps records
 * to {@link QueueMessage}s, runs them through the shared {@link BatchProcessor} with a deadline of the
 * remaining time minus the margin ({@code TIMBRE_DEADLINE_MARGIN_MS}), and maps outcomes to the response. It never throws for a
 * record's failure: a throw would fail (and redeliver) the whole batch.
 */
public final class VoiceEmbeddingHandler implements RequestHandler<SQSEvent, SQSBatchResponse> {

    private final Supplier<BatchProcessor> batches;
    private final Supplier<PipelineMetrics> metrics;
    private final Duration margin;
    private final Clock clock;
    private final Supplier<Optional<OutboxPublisher>> events;

    /**
     * Used by the Lambda runtime: shares the container's runtime, built on first use. Looked up on every
     * invocation: after a SnapStart restore the connections (and the pipeline on them) are new ones.
     */
    public VoiceEmbeddingHandler() {
        this(() -> ContainerRuntime.get().runtime().batches(), () -> ContainerRuntime.get().runtime().metrics(),
                ContainerRuntime.get().runtime().config().deadlineMargin(), Clock.systemUTC(),
                () -> ContainerRuntime.get().runtime().events());
    }

    /**
     * Wires the handler to given parts (local runner, tests).
     *
     * @param margin time kept back from the invocation's remaining time, so the response is returned (and the
     *               metrics flushed) before Lambda's own timeout would discard the whole batch's result
     */
    public VoiceEmbeddingHandler(BatchProcessor batches, PipelineMetrics metrics, Duration margin, Clock clock) {
        this(batches, metrics, margin, clock, Optional.empty());
    }

    /**
     * @param events publishes the completion events after each batch (docs/architecture.md §13), at most
     *               {@link #EVENT_BUDGET} and never into the margin; what is left waits for the next invocation's sweep
     */
    public VoiceEmbeddingHandler(BatchProcessor batches, PipelineMetrics metrics, Duration margin, Clock clock,
                                 Optional<OutboxPublisher> events) {
        this(() -> batches, () -> metrics, margin, clock, () -> events);
    }

    VoiceEmbeddingHandler(Supplier<BatchProcessor> batches, Supplier<PipelineMetrics> metrics, Duration margin,
                          Clock clock, Supplier<Optional<OutboxPublisher>> events) {
        this.batches = batches;
        this.metrics = metrics;
        this.margin = margin;
        this.clock = clock;
        this.events = events;
    }

    /** Longest an invocation spends publishing events after its batch. */
    public static final Duration EVENT_BUDGET = Duration.ofSeconds(2);

    /** A handler on {@code snapStart}'s runtime of the moment (the hooks' test, the AOT training run). */
    static VoiceEmbeddingHandler on(SnapStartRuntime snapStart, Clock clock) {
        return new VoiceEmbeddingHandler(() -> snapStart.runtime().batches(), () -> snapStart.runtime().metrics(),
                snapStart.runtime().config().deadlineMargin(), clock, () -> snapStart.runtime().events());
    }

    @Override
    public SQSBatchResponse handleRequest(SQSEvent event, Context context) {
        MDC.put("aws_request_id", context.getAwsRequestId());
        try {
            List<QueueMessage> messages = SqsEventRecords.toQueueMessages(event);
            Instant deadline = clock.instant()
                    .plusMillis(context.getRemainingTimeInMillis())
                    .minus(margin);
            PipelineMetrics metrics = this.metrics.get();
            BatchOutcome outcome = batches.get().process(messages, SqsEventRecords.isFifo(event), deadline);
            metrics.flush();
            // After commit: this batch's events, and any an earlier container failed to publish (a frozen Lambda
            // runs no background sweeper, so each invocation sweeps). Bounded, and never past the deadline.
            Duration left = Duration.between(clock.instant(), deadline);
            Optional<OutboxPublisher> events = this.events.get();
            if (events.isPresent() && left.compareTo(Duration.ofMillis(200)) > 0) {
                events.get().sweepOnce(left.compareTo(EVENT_BUDGET) < 0 ? left : EVENT_BUDGET);
            }
            return new SQSBatchResponse(outcome.failedMessageIds().stream()
                    .map(SQSBatchResponse.BatchItemFailure::new)
                    .toList());
        } finally {
            MDC.remove("aws_request_id");
        }
    }

    /**
     * The container-scoped runtime: created once, on first use, from the environment, and registered for CRaC
     * checkpoint/restore (SnapStart: {@link SnapStartRuntime}); otherwise never closed (Lambda freezes and
     * eventually discards the container; connections die with it).
     */
    static final class ContainerRuntime {
        private static volatile SnapStartRuntime runtime;

        private ContainerRuntime() {
        }

        static SnapStartRuntime get() {
            SnapStartRuntime r = runtime;
            if (r == null) {
                synchronized (ContainerRuntime.class) {
                    r = runtime;
                    if (r == null) {
                        r = SnapStartRuntime.registered(TimbreConfig.fromEnv(System.getenv()), "timbre-lambda");
                        runtime = r;
                    }
                }
            }
            return r;
        }
    }
}
