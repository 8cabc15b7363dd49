package dev.timbre.bridge;

import dev.timbre.bridge.amqp.AmqpSource;
import dev.timbre.bridge.config.BridgeConfig;
import dev.timbre.bridge.forward.ForwardingPipeline;
import dev.timbre.bridge.ops.BridgeMetrics;
import dev.timbre.bridge.sqs.Backoff;
import dev.timbre.bridge.sqs.EntryMapper;
import dev.timbre.bridge.sqs.SqsBatchSender;
import dev.timbre.bridge.sqs.SqsReachability;
import dev.timbre.common.health.Health;
import dev.timbre.common.health.HealthServer;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentials;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.awscore.retry.AwsRetryStrategy;
import software.amazon.awssdk.http.apache5.Apache5HttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.SqsClientBuilder;

/**
 * The wiring, and the owner of every long-lived resource: HTTP endpoints, SQS client, forwarding threads, AMQP
 * connection. {@link #close()} shuts them down in the order that loses nothing: stop consuming, flush the batches,
 * send the acks, close the connection (unacked messages go back to the queue), then the rest, within the configured
 * bound.
 *
 * <p>The SQS client is the synchronous one on the pipeline's bounded sender pool: the window of in-flight batches
 * is then a plain semaphore plus threads that block while they retry, which is the back-pressure, and nothing is
 * buffered inside an async client where it could not be bounded or seen. With at most a few dozen batches in
 * flight the threads cost less than the bookkeeping of futures would.
 *
 * <p>Thread-safety: {@link #start()} and {@link #close()} are called once each, from one thread.
 */
public final class Bridge implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(Bridge.class);

    private final BridgeConfig config;
    private final BridgeMetrics metrics = new BridgeMetrics();
    private final SqsClient sqs;
    private final SqsReachability reachability;
    private final ForwardingPipeline pipeline;
    private final AmqpSource source;
    private final ScheduledExecutorService probe = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "bridge-sqs-probe");
        t.setDaemon(true);
        return t;
    });
    private HealthServer http;

    public Bridge(BridgeConfig config) {
        this.config = config;
        this.sqs = sqsClient(config);
        this.reachability = new SqsReachability(sqs, config.sqsQueueUrl());
        EntryMapper mapper = new EntryMapper(config.fifo(), config.fifoGroupHeader(), config.maxInFlightBatches(),
                metrics::headerDropped);
        SqsBatchSender sender = new SqsBatchSender(sqs, config.sqsQueueUrl(),
                new Backoff(Duration.ofMillis(100), Duration.ofSeconds(5)), reachability, metrics);
        this.pipeline = new ForwardingPipeline(mapper, sender, metrics, config.linger(), config.maxInFlightBatches());
        this.source = new AmqpSource(config, metrics);
    }

    /**
     * Starts the endpoints, then connects to RabbitMQ (retrying until it works) and starts forwarding.
     *
     * @throws IOException if the HTTP port cannot be bound
     * @throws InterruptedException if interrupted while waiting for the broker
     */
    public void start() throws IOException, InterruptedException {
        try {
            http = HealthServer.start(config.httpPort(), "bridge-http", this::health,
                    Map.of("/metrics", new MetricsHandler(metrics.registry())));
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
        probe.scheduleWithFixedDelay(reachability::probeIfIdle, 0, 2, TimeUnit.SECONDS);
        pipeline.start();
        if (source.connect(pipeline::offer)) {
            log.info("bridge started: {} -> {}", config.amqpQueue(), config.sqsQueueUrl());
        }
    }

    public BridgeMetrics metrics() {
        return metrics;
    }

    /** Port of {@code /healthz} and {@code /metrics} (useful when configured as 0). */
    public int httpPort() {
        return http.port();
    }

    /**
     * {@code /healthz}: healthy only while the bridge consumes from RabbitMQ and SQS answers; the details say which
     * side is down, and {@code "halted":true} when consuming was stopped for a fault redelivery would only repeat
     * (the log says which; not a restart's job).
     */
    private Health health() {
        boolean amqp = source.ready() && pipeline.running();
        boolean sqsUp = reachability.reachable();
        Map<String, Object> details = new LinkedHashMap<>();
        details.put("amqp", amqp);
        details.put("sqs", sqsUp);
        if (metrics.isHalted()) {
            details.put("halted", true);
        }
        return new Health(amqp && sqsUp, details);
    }

    public boolean ready() {
        return source.ready() && pipeline.running() && reachability.reachable();
    }

    /** Graceful stop within {@code TIMBRE_BRIDGE_SHUTDOWN_TIMEOUT_MS}; never throws. */
    @Override
    public void close() {
        long deadline = System.nanoTime() + config.shutdownTimeout().toNanos();
        log.info("stopping: no new deliveries, flushing batches");
        source.stopConsuming();
        boolean clean = false;
        try {
            // Keep a fifth of the budget for sending the acks and closing the connection.
            long flushDeadline = deadline - config.shutdownTimeout().toNanos() / 5;
            clean = pipeline.drain(flushDeadline);
            source.close(Duration.ofNanos(Math.max(1, deadline - System.nanoTime())));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        probe.shutdownNow();
        sqs.close();
        if (http != null) {
            http.close();
        }
        log.info("stopped {}: received={} forwarded={} redelivered={} unsettled={} ack_failures={}",
                clean ? "cleanly" : "with unsettled messages left to the broker", metrics.receivedCount(),
                metrics.forwardedCount(), metrics.redeliveredCount(), metrics.bufferedNow(), metrics.ackFailureCount());
    }

    private static SqsClient sqsClient(BridgeConfig config) {
        SqsClientBuilder b = SqsClient.builder()
                .region(Region.of(config.awsRegion()))
                .httpClient(Apache5HttpClient.builder()
                        .maxConnections(config.maxInFlightBatches() + 2)
                        .connectionTimeout(Duration.ofSeconds(5))
                        .socketTimeout(Duration.ofSeconds(30))
                        .build())
                // Retries are ours: only the failed entries are resent, with jitter, forever while messages wait.
                .overrideConfiguration(o -> o.retryStrategy(AwsRetryStrategy.doNotRetry()));
        config.sqsEndpoint().ifPresent(b::endpointOverride);
        config.staticCredentials().ifPresent(c -> b.credentialsProvider(StaticCredentialsProvider.create(
                c.sessionToken().<AwsCredentials>map(t -> AwsSessionCredentials.create(c.accessKeyId(), c.secretAccessKey(), t))
                        .orElseGet(() -> AwsBasicCredentials.create(c.accessKeyId(), c.secretAccessKey())))));
        return b.build();
    }
}
