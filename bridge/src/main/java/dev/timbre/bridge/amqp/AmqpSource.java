package dev.timbre.bridge.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.Recoverable;
import com.rabbitmq.client.RecoveryListener;
import com.rabbitmq.client.ShutdownSignalException;
import com.rabbitmq.client.impl.FrameHandlerFactory;
import com.rabbitmq.client.impl.recovery.RecordedBinding;
import com.rabbitmq.client.impl.recovery.RecordedExchange;
import com.rabbitmq.client.impl.recovery.RecordedQueue;
import com.rabbitmq.client.impl.recovery.TopologyRecoveryFilter;
import dev.timbre.bridge.config.BridgeConfig;
import dev.timbre.bridge.forward.Delivery;
import dev.timbre.bridge.forward.DeliverySettler;
import dev.timbre.bridge.forward.OutboundBatch;
import dev.timbre.bridge.ops.BridgeMetrics;
import dev.timbre.bridge.sqs.Backoff;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The RabbitMQ side: one auto-recovering connection, one consuming channel with manual acks and the configured
 * prefetch, its single acker, and a confirm channel for dead letters.
 *
 * <p>What it survives and how:
 * <ul>
 *   <li>network loss, broker restart, missed heartbeats: the client's automatic recovery reopens the connection,
 *       channel and consumer. Deliveries in flight at that moment are redelivered by the broker; their acks carry
 *       stale tags, which the client drops on purpose. So SQS may receive them twice, never zero times.</li>
 *   <li>{@code basic.cancel} from the broker (queue deleted, quorum leader lost): the consumer is subscribed again,
 *       after declaring the queue if it is missing, with backoff until it succeeds.</li>
 *   <li>a channel-level error that closes the consuming channel (recovery does not reopen those): a new channel,
 *       acker and consumer replace it.</li>
 *   <li>a failed first connection (not covered by recovery): {@link #connect} retries with backoff.</li>
 *   <li>a message whose body exceeds SQS's 1 MiB (RabbitMQ 3.x accepts up to 128 MiB): its body is dropped unread
 *       by {@link BodySizeGuard} and the message is rejected without requeue, so RabbitMQ dead-letters the original
 *       through the queue's dead-letter exchange. The bridge never holds it, so it cannot run out of memory on it.
 *       Where the queue does not verifiably dead-letter to the bridge's exchange, a reject could drop the message:
 *       it is requeued instead and consuming stops ({@code /healthz} 503) until an operator moves it.</li>
 * </ul>
 *
 * <p>Thread-safety: deliveries are handed to the sink on the client's consumer thread, one at a time per channel.
 * Settlers may be used from any thread. {@link #stopConsuming()} and {@link #close} are for the shutdown thread.
 */
public final class AmqpSource implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(AmqpSource.class);

    private final BridgeConfig config;
    private final BridgeMetrics metrics;
    private final QueueTopology topology;
    private final Backoff backoff = new Backoff(Duration.ofMillis(200), Duration.ofSeconds(10));
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "bridge-amqp-resubscribe");
        t.setDaemon(true);
        return t;
    });
    private final AtomicBoolean closing = new AtomicBoolean();
    // A body above SQS's limit can never be forwarded: it is not read into memory at all.
    private final BodySizeGuard bodySizeGuard = new BodySizeGuard(OutboundBatch.MAX_BYTES);
    // Whether basic.reject(requeue=false) lands in the dead-letter queue (see QueueTopology#ensure).
    private volatile boolean rejectDeadLetters;
    // Set when an oversize message could not be dead-lettered safely: consuming stops, health goes red.
    private volatile String haltReason;
    // Bumped whenever the consuming channel is lost: deliveries from an older generation have been requeued.
    private final java.util.concurrent.atomic.AtomicLong generation = new java.util.concurrent.atomic.AtomicLong();

    private volatile Connection connection;
    private volatile DeadLetterPublisher deadLetters;
    private volatile Session session;
    private volatile Consumer<Delivery> sink;

    /** A consuming channel with its acker; replaced as a whole when the channel dies. */
    private record Session(Channel channel, ChannelAcker acker, String consumerTag, AtomicBoolean consuming) {
    }

    public AmqpSource(BridgeConfig config, BridgeMetrics metrics) {
        this.config = config;
        this.metrics = metrics;
        this.topology = new QueueTopology(config);
    }

    /**
     * Connects (retrying until it works or {@link #close} is called), declares the topology when missing and starts
     * consuming into {@code sink}.
     *
     * @return false if closed before a connection was made
     * @throws InterruptedException if interrupted while waiting between attempts
     */
    public boolean connect(Consumer<Delivery> sink) throws InterruptedException {
        this.sink = sink;
        ConnectionFactory factory = new ConnectionFactory() {
            @Override
            protected synchronized FrameHandlerFactory createFrameHandlerFactory() throws IOException {
                return bodySizeGuard.wrap(super.createFrameHandlerFactory());
            }
        };
        try {
            factory.setUri(config.amqpUri());
        } catch (Exception e) {
            throw new IllegalArgumentException("TIMBRE_AMQP_URL cannot be used: " + e.getMessage(), e);
        }
        factory.setAutomaticRecoveryEnabled(true);
        factory.setTopologyRecoveryEnabled(true);
        // Only the consumer needs replaying: the queues and exchange are durable and declared by QueueTopology on
        // short-lived channels, whose recorded declarations would fail to replay once those channels are closed.
        factory.setTopologyRecoveryFilter(new TopologyRecoveryFilter() {
            @Override
            public boolean filterExchange(RecordedExchange exchange) {
                return false;
            }

            @Override
            public boolean filterQueue(RecordedQueue queue) {
                return false;
            }

            @Override
            public boolean filterBinding(RecordedBinding binding) {
                return false;
            }
        });
        factory.setNetworkRecoveryInterval(config.recoveryInterval().toMillis());
        factory.setRequestedHeartbeat(30);
        factory.setConnectionTimeout(10_000);
        // Backstop for content the guard does not screen (basic.return of our own dead-letter copies, at most the
        // guard's bound): anything larger would close the connection rather than fill the heap.
        factory.setMaxInboundMessageBodySize((int) bodySizeGuard.maxBodyBytes() + 1_048_576);
        for (int attempt = 1; !closing.get(); attempt++) {
            try {
                Connection c = factory.newConnection("timbre-bridge");
                ((Recoverable) c).addRecoveryListener(new RecoveryListener() {
                    @Override
                    public void handleRecovery(Recoverable recoverable) {
                        metrics.amqpRecovered();
                        log.info("AMQP connection recovered; deliveries in flight will be redelivered");
                    }

                    @Override
                    public void handleRecoveryStarted(Recoverable recoverable) {
                        log.warn("AMQP connection lost; recovering");
                    }
                });
                // Recovery listeners hear of a loss only after the first recovery delay; this hears of it at once.
                c.addShutdownListener(cause -> {
                    if (!cause.isInitiatedByApplication()) {
                        generation.incrementAndGet();
                        Session s = session;
                        if (s != null) {
                            s.acker().forgetDeliveries(); // the channel lives on through recovery, its tags do not
                        }
                    }
                });
                connection = c;
                rejectDeadLetters = topology.ensure(c);
                deadLetters = new DeadLetterPublisher(c, config.deadLetterExchange(), config.amqpQueue());
                session = openSession();
                log.info("consuming {} (prefetch {})", config.amqpQueue(), config.prefetch());
                return true;
            } catch (Exception e) {
                closeQuietly();
                Duration delay = backoff.delay(attempt);
                log.warn("cannot connect to RabbitMQ ({}); retrying in {} ms", e.toString(), delay.toMillis());
                Thread.sleep(delay.toMillis());
            }
        }
        return false;
    }

    /** True while the connection is open and the consumer subscribed. */
    public boolean ready() {
        Connection c = connection;
        Session s = session;
        return c != null && c.isOpen() && s != null && s.channel().isOpen() && s.consuming().get()
                && haltReason == null;
    }

    private Session openSession() throws IOException {
        Channel channel = connection.createChannel();
        channel.basicQos(config.prefetch());
        ChannelAcker acker = new ChannelAcker(channel, metrics, "bridge-acker-" + channel.getChannelNumber());
        AtomicBoolean consuming = new AtomicBoolean(true);
        String tag = channel.basicConsume(config.amqpQueue(), false, new ForwardingConsumer(channel, acker, consuming));
        channel.addShutdownListener(cause -> onChannelShutdown(channel, cause));
        return new Session(channel, acker, tag, consuming);
    }

    private void onChannelShutdown(Channel channel, ShutdownSignalException cause) {
        if (closing.get() || cause.isInitiatedByApplication() || cause.isHardError()) {
            return; // our own close, or a connection-level loss that automatic recovery handles
        }
        generation.incrementAndGet();
        log.warn("consuming channel closed by the broker ({}); opening a new one", cause.getMessage());
        scheduleResubscribe(1, true);
    }

    private void scheduleResubscribe(int attempt, boolean newChannel) {
        if (closing.get() || haltReason != null) {
            return;
        }
        long delay = attempt == 1 ? 0 : backoff.delay(attempt).toMillis();
        scheduler.schedule(() -> resubscribe(attempt, newChannel), delay, TimeUnit.MILLISECONDS);
    }

    private void resubscribe(int attempt, boolean newChannel) {
        if (closing.get()) {
            return;
        }
        try {
            rejectDeadLetters = topology.ensure(connection);
            Session old = session;
            if (newChannel || old == null || !old.channel().isOpen()) {
                session = openSession();
                if (old != null) {
                    old.acker().retire(); // its channel is closed; its deliveries come back from the broker
                }
            } else {
                ForwardingConsumer consumer = new ForwardingConsumer(old.channel(), old.acker(), old.consuming());
                String tag = old.channel().basicConsume(config.amqpQueue(), false, consumer);
                old.consuming().set(true);
                session = new Session(old.channel(), old.acker(), tag, old.consuming());
            }
            log.info("re-subscribed to {}", config.amqpQueue());
        } catch (Exception e) {
            log.warn("cannot re-subscribe to {} ({}); retrying", config.amqpQueue(), e.toString());
            scheduleResubscribe(attempt + 1, newChannel);
        }
    }

    /** Cancels the consumer: no new deliveries; those already received are still settled. */
    public void stopConsuming() {
        closing.set(true);
        Session s = session;
        if (s != null && s.channel().isOpen()) {
            try {
                s.consuming().set(false);
                s.channel().basicCancel(s.consumerTag());
            } catch (Exception e) {
                log.debug("basic.cancel failed: {}", e.toString());
            }
        }
    }

    /**
     * Sends the acks still queued, then closes the channel and connection within {@code timeout}. Deliveries left
     * unacked are requeued by the broker.
     */
    public void close(Duration timeout) throws InterruptedException {
        closing.set(true);
        long deadline = System.nanoTime() + timeout.toNanos();
        scheduler.shutdownNow();
        Session s = session;
        if (s != null && !s.acker().finish(Duration.ofNanos(Math.max(0, deadline - System.nanoTime())))) {
            log.warn("acks still queued at the shutdown deadline; those messages will be redelivered");
        }
        Connection c = connection;
        if (c != null) {
            try {
                c.close((int) Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime())));
            } catch (Exception e) {
                log.debug("connection close: {}", e.toString());
            }
        }
    }

    /** {@link #close(Duration)} with 5 s; an interrupt ends the wait early and is restored. */
    @Override
    public void close() {
        try {
            close(Duration.ofSeconds(5));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void closeQuietly() {
        Connection c = connection;
        connection = null;
        if (c != null) {
            try {
                c.abort(2_000);
            } catch (Exception ignored) {
                // best effort on a failed start
            }
        }
    }

    /** Hands deliveries to the sink; runs on the client's consumer thread for this channel. */
    private final class ForwardingConsumer extends DefaultConsumer {
        private final ChannelAcker acker;
        private final AtomicBoolean consuming;

        ForwardingConsumer(Channel channel, ChannelAcker acker, AtomicBoolean consuming) {
            super(channel);
            this.acker = acker;
            this.consuming = consuming;
        }

        @Override
        public void handleDelivery(String consumerTag, Envelope envelope, AMQP.BasicProperties properties,
                                   byte[] body) {
            metrics.received(envelope.isRedeliver());
            acker.register(envelope.getDeliveryTag());
            long withheld = bodySizeGuard.withheldBodySize(properties);
            if (withheld >= 0) {
                refuseOversize(acker, envelope.getDeliveryTag(), properties, withheld);
                return;
            }
            sink.accept(new Delivery(body, properties, envelope.isRedeliver(), System.nanoTime(),
                    new AmqpSettler(acker, envelope.getDeliveryTag(), body, properties, generation.get())));
        }

        @Override
        public void handleCancel(String consumerTag) {
            consuming.set(false);
            if (closing.get()) {
                return;
            }
            metrics.consumerCancelled();
            log.warn("broker cancelled consumer {} on {}; re-subscribing", consumerTag, config.amqpQueue());
            scheduleResubscribe(1, false);
        }
    }

    /** A delivery whose body the guard dropped: it never reaches the pipeline. Runs on the consumer thread. */
    private void refuseOversize(ChannelAcker acker, long tag, AMQP.BasicProperties properties, long bodyBytes) {
        String reason = "body of " + bodyBytes + " bytes exceeds SQS's limit of " + OutboundBatch.MAX_BYTES
                + " bytes; not read by the bridge";
        if (rejectDeadLetters) {
            // RabbitMQ dead-letters the original (x-death reason "rejected"): the bridge has no copy to publish.
            acker.reject(tag, false);
            metrics.deadLettered("MessageTooLong");
            log.warn("dead-lettering message {} through {}: {}", properties.getMessageId(),
                    config.deadLetterExchange(), reason);
        } else {
            acker.reject(tag, true);
            log.error("message {} requeued: {}; the queue does not verifiably dead-letter to {}, so rejecting it "
                    + "could drop it. Move it by hand (or declare the queue with x-dead-letter-exchange={}) and "
                    + "restart the bridge", properties.getMessageId(), reason, config.deadLetterExchange(),
                    config.deadLetterExchange());
            halt("message " + properties.getMessageId() + " too large to forward and no verified dead-letter route");
        }
        metrics.settled();
    }

    /**
     * Stops consuming for good, for a fault that redelivery would only repeat; {@code /healthz} turns 503 and the
     * messages in flight are still settled. Only a restart (after an operator's fix) consumes again.
     */
    private void halt(String reason) {
        if (haltReason != null) {
            return;
        }
        haltReason = reason;
        metrics.halted();
        log.error("consuming of {} stopped: {}", config.amqpQueue(), reason);
        scheduler.execute(() -> {
            Session s = session;
            try {
                s.consuming().set(false);
                s.channel().basicCancel(s.consumerTag());
            } catch (Exception e) {
                log.debug("basic.cancel failed: {}", e.toString());
            }
        });
    }


    /** Settles one delivery through its channel's acker. */
    private final class AmqpSettler implements DeliverySettler {
        private final ChannelAcker acker;
        private final long tag;
        private final byte[] body;
        private final AMQP.BasicProperties properties;
        private final long deliveredInGeneration;
        private final AtomicBoolean settled = new AtomicBoolean();

        AmqpSettler(ChannelAcker acker, long tag, byte[] body, AMQP.BasicProperties properties, long generation) {
            this.acker = acker;
            this.tag = tag;
            this.body = body;
            this.properties = properties;
            this.deliveredInGeneration = generation;
        }

        @Override
        public boolean stale() {
            return deliveredInGeneration != generation.get();
        }

        @Override
        public void abandon() {
            if (settled.compareAndSet(false, true)) {
                metrics.staleDropped();
                metrics.settled();
            }
        }

        @Override
        public void ack() {
            if (settled.compareAndSet(false, true)) {
                acker.ack(tag);
                metrics.settled();
            }
        }

        @Override
        public void deadLetter(String code, String reason) {
            if (!settled.compareAndSet(false, true)) {
                return;
            }
            DeadLetterPublisher publisher = deadLetters;
            DeadLetterPublisher.Outcome outcome = publisher == null ? DeadLetterPublisher.Outcome.FAILED
                    : publisher.publish(body, properties, code, reason);
            if (outcome == DeadLetterPublisher.Outcome.CONFIRMED) {
                acker.ack(tag);
                metrics.deadLettered(code);
            } else {
                // Never drop it: back to the queue, to be tried again.
                acker.reject(tag, true);
                if (outcome == DeadLetterPublisher.Outcome.UNROUTABLE) {
                    // Redelivering it would only loop: stop where an operator sees it.
                    halt("dead-letter exchange " + config.deadLetterExchange() + " routes nothing to "
                            + config.deadLetterQueue() + " (message " + properties.getMessageId() + " returned)");
                }
            }
            metrics.settled();
        }
    }
}
