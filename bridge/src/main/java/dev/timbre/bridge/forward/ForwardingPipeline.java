package dev.timbre.bridge.forward;

import dev.timbre.bridge.ops.BridgeMetrics;
import dev.timbre.bridge.sqs.EntryMapper;
import dev.timbre.bridge.sqs.SqsBatchSender;
import dev.timbre.bridge.sqs.UnsendableMessageException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Owns the bridge's forwarding threads: deliveries go into an inbox, one batcher thread assembles batches, and a
 * window of at most {@code maxInFlightBatches} batches is sent at once.
 *
 * <p>Memory is bounded without a bounded inbox: with manual acks the broker never has more than {@code prefetch}
 * unacked deliveries out, and every delivery in the inbox, in an open batch or in flight is unacked. When the
 * window is full the batcher blocks, the inbox fills up to the prefetch, and the broker stops sending.
 *
 * <p>Lanes: a standard queue uses one lane whose batches go to a shared pool of senders; a FIFO queue has one
 * lane per window slot, each served by a single thread, so the batches of one message group leave in order.
 *
 * <p>Thread-safety: {@link #offer} is called by the AMQP consumer thread; {@link #drain} by the shutdown thread.
 */
public final class ForwardingPipeline {

    private static final Logger log = LoggerFactory.getLogger(ForwardingPipeline.class);
    private static final Delivery END = new Delivery(new byte[0], null, false, 0, null);

    private final LinkedBlockingQueue<Delivery> inbox = new LinkedBlockingQueue<>();
    private final EntryMapper mapper;
    private final SqsBatchSender sender;
    private final BridgeMetrics metrics;
    private final BatchAssembler assembler;
    private final Semaphore window;
    private final int windowSize;
    private final ExecutorService[] laneExecutors;
    private final Thread batcher;
    private final boolean lingers;

    public ForwardingPipeline(EntryMapper mapper, SqsBatchSender sender, BridgeMetrics metrics, Duration linger,
                              int maxInFlightBatches) {
        this.mapper = mapper;
        this.sender = sender;
        this.metrics = metrics;
        this.windowSize = maxInFlightBatches;
        this.window = new Semaphore(maxInFlightBatches);
        this.assembler = new BatchAssembler(mapper.lanes(), linger.toNanos());
        this.lingers = !linger.isZero();
        if (mapper.lanes() == 1) {
            ExecutorService pool = Executors.newFixedThreadPool(maxInFlightBatches, threads("bridge-sender-"));
            this.laneExecutors = new ExecutorService[] {pool};
        } else {
            this.laneExecutors = new ExecutorService[mapper.lanes()];
            ThreadFactory factory = threads("bridge-fifo-lane-");
            for (int i = 0; i < laneExecutors.length; i++) {
                laneExecutors[i] = Executors.newSingleThreadExecutor(factory);
            }
        }
        this.batcher = new Thread(this::runBatcher, "bridge-batcher");
        this.batcher.setDaemon(true);
    }

    public void start() {
        batcher.start();
    }

    /** Hands a delivery over. Never blocks; see the class comment for why the inbox needs no bound. */
    public void offer(Delivery delivery) {
        inbox.add(delivery);
    }

    /** False once the batcher thread has ended: nothing would be forwarded any more. */
    public boolean running() {
        return batcher.isAlive();
    }

    /** Batches in flight now (tests, health). */
    public int inFlightBatches() {
        return windowSize - window.availablePermits();
    }

    /**
     * Stops taking deliveries, sends what is buffered, and waits for the senders until {@code deadlineNanos}.
     * Batches still retrying then are abandoned: their messages stay unacked and the broker redelivers them.
     *
     * @return true when everything handed over was settled in time
     */
    public boolean drain(long deadlineNanos) throws InterruptedException {
        inbox.add(END);
        batcher.join(Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadlineNanos - System.nanoTime())));
        boolean clean = !batcher.isAlive();
        if (!clean) {
            batcher.interrupt();
        }
        for (ExecutorService lane : laneExecutors) {
            lane.shutdown();
        }
        for (ExecutorService lane : laneExecutors) {
            long left = deadlineNanos - System.nanoTime();
            if (!lane.awaitTermination(Math.max(0, left), TimeUnit.NANOSECONDS)) {
                clean = false;
                lane.shutdownNow(); // interrupts retrying senders: they abandon, the broker redelivers
            }
        }
        return clean;
    }

    private void runBatcher() {
        try {
            while (true) {
                long wait = assembler.nanosToNextDeadline(System.nanoTime());
                Delivery d = wait < 0 ? inbox.poll(1, TimeUnit.SECONDS) : inbox.poll(wait, TimeUnit.NANOSECONDS);
                if (d == END) {
                    dispatch(assembler.flushAll());
                    return;
                }
                if (d != null) {
                    accept(d);
                }
                // A batch leaves when full or when its linger is over; with no linger, as soon as nothing else waits.
                if (!lingers) {
                    if (inbox.isEmpty()) {
                        dispatch(assembler.flushAll());
                    }
                } else {
                    dispatch(assembler.expired(System.nanoTime()));
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            log.error("batcher failed; unsettled messages will be redelivered by the broker", e);
        }
    }

    private void accept(Delivery d) throws InterruptedException {
        if (d.settler().stale()) {
            d.settler().abandon(); // already requeued by the broker: sending it would only duplicate it
            return;
        }
        OutboundEntry entry;
        try {
            entry = mapper.map(d);
        } catch (UnsendableMessageException e) {
            log.warn("dead-lettering message {} without sending it: {}", d.properties().getMessageId(), e.getMessage());
            d.settler().deadLetter(e.code(), e.getMessage());
            return;
        }
        dispatch(assembler.add(entry, System.nanoTime()));
    }

    private void dispatch(List<OutboundBatch> batches) throws InterruptedException {
        for (OutboundBatch batch : batches) {
            window.acquire(); // back-pressure: blocks while maxInFlightBatches batches are out
            ExecutorService lane = laneExecutors.length == 1 ? laneExecutors[0] : laneExecutors[batch.lane()];
            try {
                lane.execute(() -> {
                    try {
                        sender.send(batch);
                    } finally {
                        window.release();
                    }
                });
            } catch (RuntimeException rejected) {
                window.release();
                throw rejected;
            }
        }
    }

    private static ThreadFactory threads(String prefix) {
        AtomicInteger n = new AtomicInteger();
        return r -> {
            Thread t = new Thread(r, prefix + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        };
    }
}
