package dev.timbre.bridge.ops;

import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.Gauge;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The bridge's Prometheus metrics, on a registry of its own (several bridges in one test JVM do not collide).
 *
 * <p>Thread-safe: every method may be called from any thread.
 */
public final class BridgeMetrics {

    private final PrometheusRegistry registry = new PrometheusRegistry();

    private final Counter received = counter("timbre_bridge_received", "AMQP deliveries received");
    private final Counter redelivered = counter("timbre_bridge_redelivered",
            "deliveries flagged redelivered by the broker: possible duplicates in SQS");
    private final Counter forwarded = counter("timbre_bridge_forwarded", "messages accepted by SQS and acknowledged");
    private final Counter failedEntries = Counter.builder().name("timbre_bridge_failed_entries")
            .help("entries SQS did not accept, by kind (transient = retried, sender = dead-lettered)")
            .labelNames("kind").register(registry);
    private final Counter deadLettered = Counter.builder().name("timbre_bridge_dead_lettered")
            .help("messages moved to the AMQP dead-letter queue, by error code")
            .labelNames("code").register(registry);
    private final Counter retries = counter("timbre_bridge_retries", "entries sent again after a transient failure");
    private final Counter requestFailures = counter("timbre_bridge_sqs_request_failures",
            "SendMessageBatch calls that failed as a whole");
    private final Counter headersDropped = counter("timbre_bridge_headers_dropped",
            "AMQP headers not carried (SQS's 10-attribute limit, names or values SQS refuses)");
    private final Counter ackFailures = counter("timbre_bridge_ack_failures",
            "acks or rejects that could not be sent (channel closed): the broker redelivers those messages");
    private final Counter staleDropped = counter("timbre_bridge_stale_dropped",
            "deliveries not sent because their channel was lost first (the broker redelivers them)");
    private final Counter amqpRecoveries = counter("timbre_bridge_amqp_recoveries", "AMQP connection recoveries");
    private final Counter consumerCancels = counter("timbre_bridge_consumer_cancels",
            "consumer cancel notifications from the broker (re-subscribed)");
    private final Gauge halted = Gauge.builder().name("timbre_bridge_halted")
            .help("1 once consuming stopped for a fault redelivery would repeat (see the log); needs an operator")
            .register(registry);
    private final Gauge inFlightBatches = Gauge.builder().name("timbre_bridge_in_flight_batches")
            .help("SendMessageBatch calls in progress or waiting to retry").register(registry);
    private final Gauge buffered = Gauge.builder().name("timbre_bridge_buffered_messages")
            .help("deliveries received and not yet settled (bounded by the prefetch)").register(registry);
    private final Histogram batchEntries = Histogram.builder().name("timbre_bridge_batch_entries")
            .help("entries per SendMessageBatch (batch fill)").classicOnly()
            .classicUpperBounds(1, 2, 3, 4, 5, 6, 7, 8, 9, 10).register(registry);
    private final Histogram batchBytes = Histogram.builder().name("timbre_bridge_batch_bytes")
            .help("bytes per SendMessageBatch as SQS counts them").classicOnly()
            .classicExponentialUpperBounds(1024, 4, 8).register(registry);
    private final Histogram sendSeconds = Histogram.builder().name("timbre_bridge_send_seconds")
            .help("SendMessageBatch latency").classicOnly().register(registry);
    private final Histogram forwardSeconds = Histogram.builder().name("timbre_bridge_forward_seconds")
            .help("time from AMQP delivery to ack").classicOnly().register(registry);

    private final AtomicInteger inFlight = new AtomicInteger();
    private final AtomicInteger bufferedCount = new AtomicInteger();
    private final AtomicInteger bufferedPeak = new AtomicInteger();
    private final AtomicInteger largestBatchBytes = new AtomicInteger();

    private Counter counter(String name, String help) {
        return Counter.builder().name(name).help(help).register(registry);
    }

    public PrometheusRegistry registry() {
        return registry;
    }

    public void received(boolean wasRedelivered) {
        received.inc();
        if (wasRedelivered) {
            redelivered.inc();
        }
        bufferedPeak.accumulateAndGet(bufferedCount.incrementAndGet(), Math::max);
        buffered.inc();
    }

    /** A delivery left the bridge's hands (acked, dead-lettered, or given back to the broker). */
    public void settled() {
        bufferedCount.decrementAndGet();
        buffered.dec();
    }

    public void forwarded(long receivedNanos) {
        forwarded.inc();
        forwardSeconds.observe((System.nanoTime() - receivedNanos) / 1e9);
    }

    public void batchSent(int entries, int bytes, long elapsedNanos) {
        batchEntries.observe(entries);
        batchBytes.observe(bytes);
        sendSeconds.observe(elapsedNanos / 1e9);
        largestBatchBytes.accumulateAndGet(bytes, Math::max);
    }

    public void failedEntries(String kind, int n) {
        failedEntries.labelValues(kind).inc(n);
    }

    public void deadLettered(String code) {
        deadLettered.labelValues(code).inc();
    }

    public void retried(int entries) {
        retries.inc(entries);
    }

    public void requestFailed() {
        requestFailures.inc();
    }

    public void headerDropped() {
        headersDropped.inc();
    }

    public void ackFailed() {
        ackFailures.inc();
    }

    public void staleDropped() {
        staleDropped.inc();
    }

    public long staleDroppedCount() {
        return (long) staleDropped.get();
    }

    public void amqpRecovered() {
        amqpRecoveries.inc();
    }

    public void halted() {
        halted.set(1);
    }

    public boolean isHalted() {
        return halted.get() == 1;
    }

    public void consumerCancelled() {
        consumerCancels.inc();
    }

    public void batchStarted() {
        inFlightBatches.set(inFlight.incrementAndGet());
    }

    public void batchFinished() {
        inFlightBatches.set(inFlight.decrementAndGet());
    }

    // Readers for tests and the shutdown log.
    public long forwardedCount() {
        return (long) forwarded.get();
    }

    public long receivedCount() {
        return (long) received.get();
    }

    public long redeliveredCount() {
        return (long) redelivered.get();
    }

    public long deadLetteredCount(String code) {
        return (long) deadLettered.labelValues(code).get();
    }

    public long retriedCount() {
        return (long) retries.get();
    }

    public long batchCount() {
        var points = batchEntries.collect().getDataPoints();
        return points.isEmpty() ? 0 : points.get(0).getCount();
    }

    public int bufferedPeak() {
        return bufferedPeak.get();
    }

    public int bufferedNow() {
        return bufferedCount.get();
    }

    public int largestBatchBytes() {
        return largestBatchBytes.get();
    }

    public long ackFailureCount() {
        return (long) ackFailures.get();
    }

    public long consumerCancelCount() {
        return (long) consumerCancels.get();
    }

    public long amqpRecoveryCount() {
        return (long) amqpRecoveries.get();
    }
}
