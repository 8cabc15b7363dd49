package dev.timbre.bridge.amqp;

import com.rabbitmq.client.Channel;
import dev.timbre.bridge.ops.BridgeMetrics;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that acknowledges and rejects deliveries of one channel.
 *
 * <p>amqp-client allows single acks from a thread other than the consumer's, but acks from several threads at once
 * can interleave frames and a {@code multiple=true} ack from another thread double-acknowledges, which closes the
 * channel with {@code 406 PRECONDITION_FAILED} (https://www.rabbitmq.com/client-libraries/java-api-guide). So every
 * ack of a channel goes through this single thread, one tag at a time.
 *
 * <p>Thread-safe: {@link #ack} and {@link #reject} may be called from any thread; they never block and never throw.
 * A failed ack (channel closed, connection recovering) is counted and otherwise ignored: the broker redelivers the
 * message, and acks of tags from before a recovery are dropped by the client on purpose.
 */
final class ChannelAcker {

    private static final Logger log = LoggerFactory.getLogger(ChannelAcker.class);

    private final Channel channel;
    private final BridgeMetrics metrics;
    private final ExecutorService thread;

    ChannelAcker(Channel channel, BridgeMetrics metrics, String name) {
        this.channel = channel;
        this.metrics = metrics;
        this.thread = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        });
    }

    void ack(long deliveryTag) {
        submit(() -> channel.basicAck(deliveryTag, false), deliveryTag, "ack");
    }

    void reject(long deliveryTag, boolean requeue) {
        submit(() -> channel.basicReject(deliveryTag, requeue), deliveryTag, requeue ? "requeue" : "reject");
    }

    private void submit(AckCall call, long tag, String what) {
        try {
            thread.execute(() -> {
                try {
                    call.run();
                } catch (Exception e) {
                    metrics.ackFailed();
                    log.debug("{} of delivery {} not sent ({}); the broker will redeliver it", what, tag, e.toString());
                }
            });
        } catch (RejectedExecutionException closed) {
            metrics.ackFailed();
        }
    }

    /** Stops after the acks queued so far, without waiting (the channel was replaced). */
    void retire() {
        thread.shutdown();
    }

    /** Sends the acks queued so far, then stops; waits at most {@code timeout}. */
    boolean finish(Duration timeout) throws InterruptedException {
        thread.shutdown();
        return thread.awaitTermination(Math.max(1, timeout.toMillis()), TimeUnit.MILLISECONDS);
    }

    @FunctionalInterface
    private interface AckCall {
        void run() throws Exception;
    }
}
