package dev.timbre.pipeline;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Future;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.MDC;

/**
 * The fixed pool of platform worker threads that run jobs (docs/architecture.md §7). One per container (Lambda) or process
 * (ECS worker), created once and reused across invocations, so each thread's converter (kept by
 * {@link dev.timbre.tone.ToneColorExtractor} in a thread-local) lives as long as the container.
 *
 * <p>Platform threads, not virtual ones: jobs are CPU-bound native inference and the per-thread converter must
 * stay with one OS thread. The submitter's MDC (request id, batch fields) is copied into the worker thread for
 * the task and the worker's MDC is cleared in {@code finally}, so no field leaks into the next task.
 *
 * <p>Several batches at once (Lambda Managed Instances: concurrent invocations in one execution environment) each
 * submit through their own {@link #lane()}; the queue serves lanes round-robin ({@link FairLaneQueue}), so a big
 * batch cannot hold every thread while another invocation's deadline runs out. The threads, and so the per-thread
 * converters, are the same for every lane.
 *
 * <p>Thread-safe. The owner closes it ({@link #close()}); tasks still running when the bound passes are
 * interrupted.
 */
public final class WorkerPool implements AutoCloseable {

    private static final Duration CLOSE_BOUND = Duration.ofSeconds(10);

    private final int threads;
    private final ThreadPoolExecutor executor;

    /**
     * @param threads number of worker threads, at least 1
     */
    public WorkerPool(int threads) {
        if (threads < 1) {
            throw new IllegalArgumentException("threads must be at least 1, was " + threads);
        }
        this.threads = threads;
        this.executor = new ThreadPoolExecutor(threads, threads, 0L, TimeUnit.MILLISECONDS,
                new FairLaneQueue(), new WorkerThreadFactory());
        // Start every thread now: a Lambda container pays thread start-up in init, not in the first batch.
        executor.prestartAllCoreThreads();
    }

    public int threads() {
        return threads;
    }

    /** Runs the task on a worker thread with a copy of the caller's MDC. */
    public <T> Future<T> submit(Callable<T> task) {
        Map<String, String> callerMdc = MDC.getCopyOfContextMap();
        return executor.submit(() -> {
            if (callerMdc != null) {
                MDC.setContextMap(callerMdc);
            }
            try {
                return task.call();
            } finally {
                MDC.clear();
            }
        });
    }

    /**
     * This pool as an {@link Executor} for {@link java.util.concurrent.CompletableFuture} chains, with the same
     * MDC copy as {@link #submit}. The MDC is captured when the task is handed over.
     */
    public Executor executor() {
        return command -> {
            Map<String, String> callerMdc = MDC.getCopyOfContextMap();
            executor.execute(() -> {
                if (callerMdc != null) {
                    MDC.setContextMap(callerMdc);
                }
                try {
                    command.run();
                } finally {
                    MDC.clear();
                }
            });
        };
    }

    /**
     * A new lane of this pool for one batch: tasks run through it are queued in their own FIFO lane, and free
     * threads take from the lanes in turn. Same MDC copy as {@link #executor()}. A lane needs no closing (an empty
     * lane takes no room).
     */
    public Executor lane() {
        Object lane = new Object();
        return command -> {
            Map<String, String> callerMdc = MDC.getCopyOfContextMap();
            executor.execute(new LanedTask(lane, () -> {
                if (callerMdc != null) {
                    MDC.setContextMap(callerMdc);
                }
                try {
                    command.run();
                } finally {
                    MDC.clear();
                }
            }));
        };
    }

    private record LanedTask(Object lane, Runnable body) implements FairLaneQueue.Laned {
        @Override
        public void run() {
            body.run();
        }
    }

    /** Tasks submitted and not yet started. */
    public int queued() {
        return executor.getQueue().size();
    }

    /** Tasks running right now. */
    public int active() {
        return executor.getActiveCount();
    }

    /** Stops accepting work, waits up to 10 s for running tasks, then interrupts them. */
    @Override
    public void close() {
        close(CLOSE_BOUND);
    }

    /** Stops accepting work, waits up to {@code bound} for queued and running tasks, then interrupts them. */
    public void close(Duration bound) {
        ExecutorService e = executor;
        e.shutdown();
        try {
            if (!e.awaitTermination(bound.toMillis(), TimeUnit.MILLISECONDS)) {
                e.shutdownNow();
            }
        } catch (InterruptedException ie) {
            e.shutdownNow();
            Thread.currentThread().interrupt();
        }
    }

    private static final class WorkerThreadFactory implements ThreadFactory {
        private static final AtomicInteger POOLS = new AtomicInteger();
        private final int pool = POOLS.incrementAndGet();
        private final AtomicInteger count = new AtomicInteger();

        @Override
        public Thread newThread(Runnable r) {
            Thread t = new Thread(r, "timbre-worker-" + pool + "-" + count.incrementAndGet());
            // Daemon: a pool someone forgot to close never keeps the JVM alive; hosts drain it explicitly.
            t.setDaemon(true);
            return t;
        }
    }
}
