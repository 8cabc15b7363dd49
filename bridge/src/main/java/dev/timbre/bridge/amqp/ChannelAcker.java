package dev.timbre.bridge.amqp;

import com.rabbitmq.client.Channel;
import dev.timbre.bridge.ops.BridgeMetrics;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.LinkedBlockingQueue;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The one thread that acknowledges and rejects the deliveries of one channel.
 *
 * <p>Why one thread: acks from several threads at once can interleave frames, and a {@code multiple=true} ack racing
 * another thread's ack double-acknowledges, which closes the channel with {@code 406 PRECONDITION_FAILED}
 * (https://www.rabbitmq.com/client-libraries/java-api-guide). Here a single thread owns all of a channel's acks, so
 * it can also use {@code multiple=true} safely: it knows every tag it was given, in delivery order, and acks the
 * longest settled prefix with one frame. That saves the broker one settle command per message, which matters on
 * quorum queues, where settles go through the Raft log. A settled tag stuck behind an unsettled one (a message
 * still retrying) is acked on its own, so it never holds a prefetch slot.
 *
 * <p>Thread-safety: {@link #register}, {@link #ack} and {@link #reject} may be called from any thread and never
 * block or throw; {@code register(tag)} must happen before {@code ack(tag)} (the consumer registers a delivery
 * before handing it on). A failed ack (channel closed, connection recovering) is counted and otherwise ignored: the
 * broker redelivers the message, and the client drops acks of tags from before a recovery on purpose.
 */
final class ChannelAcker {

    private static final Logger log = LoggerFactory.getLogger(ChannelAcker.class);
    private static final int REGISTER = 0;
    private static final int ACK = 1;
    private static final int REJECT = 2;
    private static final int REQUEUE = 3;
    private static final int FORGET = 4;
    private static final int STOP = 5;

    private record Event(int type, long tag) {
    }

    private final Channel channel;
    private final BridgeMetrics metrics;
    private final LinkedBlockingQueue<Event> events = new LinkedBlockingQueue<>();
    private final Thread thread;

    // Owned by the acker thread.
    private final TreeSet<Long> outstanding = new TreeSet<>();
    private final Set<Long> settled = new HashSet<>();

    ChannelAcker(Channel channel, BridgeMetrics metrics, String name) {
        this.channel = channel;
        this.metrics = metrics;
        this.thread = new Thread(this::run, name);
        this.thread.setDaemon(true);
        this.thread.start();
    }

    /** A delivery arrived on this channel. */
    void register(long deliveryTag) {
        events.add(new Event(REGISTER, deliveryTag));
    }

    void ack(long deliveryTag) {
        events.add(new Event(ACK, deliveryTag));
    }

    void reject(long deliveryTag, boolean requeue) {
        events.add(new Event(requeue ? REQUEUE : REJECT, deliveryTag));
    }

    /**
     * The connection was lost: every delivery registered so far has been requeued by the broker, so none of their
     * tags will ever be settled here (stale deliveries are abandoned, not acked). Forgetting them keeps the
     * {@code multiple=true} prefix moving: the channel survives recovery, its new tags continue above the old
     * ones (the client offsets them), and one old tag left outstanding would hold every later ack back to a
     * single ack for the life of the process.
     */
    void forgetDeliveries() {
        events.add(new Event(FORGET, 0));
    }

    /** Stops after the acks queued so far, without waiting (the channel was replaced). */
    void retire() {
        events.add(new Event(STOP, 0));
    }

    /**
     * Sends the acks queued so far, waits for one synchronous round trip on the channel (the broker handles a
     * channel's frames in order, so after it every ack has been processed), then stops; waits at most
     * {@code timeout}.
     *
     * @return false if the acker was still busy when the timeout passed
     */
    boolean finish(Duration timeout) throws InterruptedException {
        events.add(new Event(STOP, 1));
        thread.join(Math.max(1, timeout.toMillis()));
        return !thread.isAlive();
    }

    private void run() {
        List<Event> batch = new ArrayList<>();
        try {
            while (true) {
                batch.add(events.take());
                events.drainTo(batch);
                boolean stop = false;
                boolean barrier = false;
                for (Event e : batch) {
                    switch (e.type()) {
                        case REGISTER -> outstanding.add(e.tag());
                        case ACK -> settled.add(e.tag());
                        case FORGET -> {
                            outstanding.clear();
                            settled.clear();
                        }
                        case REJECT, REQUEUE -> {
                            outstanding.remove(e.tag());
                            send(() -> channel.basicReject(e.tag(), e.type() == REQUEUE), e.tag());
                        }
                        default -> {
                            stop = true;
                            barrier |= e.tag() == 1;
                        }
                    }
                }
                batch.clear();
                flushAcks();
                if (stop) {
                    if (barrier) {
                        // amq.direct exists in every vhost: a passive declare is a side-effect-free round trip
                        send(() -> channel.exchangeDeclarePassive("amq.direct"), -1);
                    }
                    return;
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void flushAcks() {
        long prefixEnd = -1;
        while (!outstanding.isEmpty() && settled.remove(outstanding.first())) {
            prefixEnd = outstanding.pollFirst();
        }
        if (prefixEnd >= 0) {
            long tag = prefixEnd;
            send(() -> channel.basicAck(tag, true), tag);
        }
        for (long tag : settled) { // settled behind an unsettled tag: free their prefetch slots now
            outstanding.remove(tag);
            send(() -> channel.basicAck(tag, false), tag);
        }
        settled.clear();
    }

    private void send(AckCall call, long tag) {
        try {
            call.run();
        } catch (Exception e) {
            metrics.ackFailed();
            log.debug("ack/reject of delivery {} not sent ({}); the broker will redeliver it", tag, e.toString());
        }
    }

    @FunctionalInterface
    private interface AckCall {
        void run() throws Exception;
    }
}
