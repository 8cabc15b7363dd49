package dev.timbre.notify;

import dev.timbre.pipeline.PipelineMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes the outbox (docs/architecture.md §13): claims unpublished events under a lease, sends them to the sink,
 * marks what was accepted and puts the rest back for a later try, with a pause that grows with the attempts (1 s,
 * 2 s, … at most {@link #MAX_RETRY_DELAY}). Hosts call {@link #publishPending} after a batch (Lambda, bounded) and
 * run {@link #startSweeper} in the background (ECS worker, {@code ./timbre worker}, the demo): together they publish
 * right after commit and pick up whatever a crash or an outage left behind.
 *
 * <p>Thread-safe: the outbox's lease keeps concurrent publishers (threads or workers) off each other's rows.
 */
public final class OutboxPublisher implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(OutboxPublisher.class);

    static final int CLAIM_SIZE = 50;
    static final Duration MAX_RETRY_DELAY = Duration.ofSeconds(10);

    private final EventOutbox outbox;
    private final EventSink sink;
    private final PipelineMetrics metrics;
    private ScheduledExecutorService sweeper;

    public OutboxPublisher(EventOutbox outbox, EventSink sink, PipelineMetrics metrics) {
        this.outbox = outbox;
        this.sink = sink;
        this.metrics = metrics;
    }

    /**
     * Publishes claimable events until none is left or {@code budget} is spent (a claimed batch is finished even
     * then). Never throws: a database or sink fault is logged and left to the next sweep.
     *
     * @return how many events the sink accepted
     */
    public int publishPending(Duration budget) {
        long deadline = System.nanoTime() + budget.toNanos();
        int published = 0;
        try {
            while (true) {
                List<OutboxEvent> claimed = outbox.claim(CLAIM_SIZE);
                if (claimed.isEmpty()) {
                    break;
                }
                published += publish(claimed);
                if (claimed.size() < CLAIM_SIZE || System.nanoTime() > deadline) {
                    break;
                }
            }
            outbox.oldestUnpublishedAge().ifPresent(age -> metrics.eventOutboxAge(age.toMillis() / 1000.0));
        } catch (RuntimeException e) {
            log.atWarn().log("publishing events failed; the next sweep retries: {}", e.getMessage());
        }
        return published;
    }

    private int publish(List<OutboxEvent> claimed) {
        Map<UUID, String> refused;
        try {
            refused = sink.send(claimed);
        } catch (RuntimeException e) {
            refused = new HashMap<>();
            for (OutboxEvent event : claimed) {
                refused.put(event.eventId(), "sink unreachable: " + e.getMessage());
            }
        }
        List<UUID> accepted = new ArrayList<>();
        Map<UUID, Integer> attempts = new HashMap<>();
        for (OutboxEvent event : claimed) {
            attempts.put(event.eventId(), event.attempts());
            if (!refused.containsKey(event.eventId())) {
                accepted.add(event.eventId());
            }
        }
        outbox.markPublished(accepted);
        metrics.eventsPublished(accepted.size());
        if (!refused.isEmpty()) {
            int most = refused.keySet().stream().mapToInt(attempts::get).max().orElse(1);
            Duration retryIn = Duration.ofSeconds(Math.min(MAX_RETRY_DELAY.toSeconds(), most));
            outbox.retryLater(refused, retryIn);
            metrics.eventPublishFailures(refused.size());
            log.atWarn().addKeyValue("failed", refused.size()).addKeyValue("sink", sink.describe())
                    .addKeyValue("retry_in_ms", retryIn.toMillis())
                    .log("events not published, kept in the outbox: {}", refused.values().iterator().next());
        }
        if (!accepted.isEmpty()) {
            log.atDebug().addKeyValue("published", accepted.size()).log("events published");
        }
        return accepted.size();
    }

    /** {@link #publishPending}, then the event metrics are flushed (one EMF line, if there was anything). */
    public int sweepOnce(Duration budget) {
        int published = publishPending(budget);
        metrics.flush();
        return published;
    }

    /** Starts a daemon thread that publishes every {@code every}, flushing the event metrics when there are any. */
    public synchronized void startSweeper(Duration every) {
        if (sweeper != null) {
            return;
        }
        sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "timbre-event-sweeper");
            t.setDaemon(true);
            return t;
        });
        sweeper.scheduleWithFixedDelay(() -> sweepOnce(every.multipliedBy(5)), 0, every.toMillis(),
                TimeUnit.MILLISECONDS);
        log.atInfo().addKeyValue("sink", sink.describe()).addKeyValue("every_ms", every.toMillis())
                .log("event sweeper started");
    }

    public String sinkDescription() {
        return sink.describe();
    }

    /**
     * Stops the sweeper (waiting briefly for a sweep in flight), publishes what the last jobs committed (bounded by
     * {@link #FINAL_SWEEP}: a stopping ECS task should not leave its last events to the next worker's sweep), and
     * closes the sink. The runtime closes this after the worker pool and before the connection pool.
     */
    @Override
    public void close() {
        ScheduledExecutorService s;
        synchronized (this) {
            s = sweeper;
            sweeper = null;
        }
        if (s != null) {
            s.shutdown();
            try {
                s.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            sweepOnce(FINAL_SWEEP);
        }
        sink.close();
    }

    /** Bound of the last sweep when a worker stops. */
    static final Duration FINAL_SWEEP = Duration.ofSeconds(2);
}
