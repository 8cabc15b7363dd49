package dev.timbre.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.slf4j.MDC;

class WorkerPoolTest {

    @Test
    void workerSeesTheSubmittersMdcAndNothingLeaksIntoTheNextTask() throws Exception {
        try (WorkerPool pool = new WorkerPool(1)) {
            // given
            MDC.put("aws_request_id", "req-1");
            Future<Map<String, String>> first = pool.submit(() -> {
                MDC.put("job_id", "job-1"); // what a job adds on the worker thread
                return MDC.getCopyOfContextMap();
            });
            MDC.clear();

            // when: the same (single) thread runs a task submitted with an empty MDC
            Future<Map<String, String>> second = pool.submit(MDC::getCopyOfContextMap);
            CompletableFuture<Map<String, String>> third =
                    CompletableFuture.supplyAsync(MDC::getCopyOfContextMap, pool.executor());

            // then
            assertEquals(Map.of("aws_request_id", "req-1", "job_id", "job-1"), first.get(10, TimeUnit.SECONDS));
            Map<String, String> leaked = second.get(10, TimeUnit.SECONDS);
            assertTrue(leaked == null || leaked.isEmpty(), "cleared in finally, was " + leaked);
            Map<String, String> viaExecutor = third.get(10, TimeUnit.SECONDS);
            assertTrue(viaExecutor == null || viaExecutor.isEmpty());
        } finally {
            MDC.clear();
        }
    }

    @Test
    void threadsAreNamedAndCountedAndCloseIsBounded() throws Exception {
        WorkerPool pool = new WorkerPool(3);
        CountDownLatch never = new CountDownLatch(1);
        Future<String> name = pool.submit(() -> Thread.currentThread().getName());
        assertTrue(name.get(10, TimeUnit.SECONDS).startsWith("timbre-worker-"));
        assertEquals(3, pool.threads());
        pool.submit(() -> never.await(1, TimeUnit.HOURS));

        long start = System.nanoTime();
        pool.close(java.time.Duration.ofMillis(200));

        assertTrue(System.nanoTime() - start < TimeUnit.SECONDS.toNanos(5), "close gave up waiting after its bound");
        assertThrows(java.util.concurrent.RejectedExecutionException.class, () -> pool.submit(() -> 1));
        assertThrows(IllegalArgumentException.class, () -> new WorkerPool(0));
    }

    /**
     * Two batches share one thread: the big one queued first (as a Managed Instances environment sees when a
     * 50-record invocation arrives just before a 3-record one). The lanes take turns, so the small batch is done
     * after at most 2 x 3 tasks instead of waiting for all 50, and each lane keeps its own order.
     */
    @Test
    void concurrentBatchesTakeTurnsSoABigBatchCannotStarveASmallOne() throws Exception {
        try (WorkerPool pool = new WorkerPool(1)) {
            CountDownLatch hold = new CountDownLatch(1);
            CountDownLatch busy = new CountDownLatch(1);
            pool.submit(() -> {
                busy.countDown();
                return hold.await(10, TimeUnit.SECONDS); // the one thread is busy while both batches queue
            });
            assertTrue(busy.await(10, TimeUnit.SECONDS));
            java.util.List<String> order = java.util.Collections.synchronizedList(new java.util.ArrayList<>());
            java.util.concurrent.Executor big = pool.lane();
            java.util.concurrent.Executor small = pool.lane();
            java.util.List<CompletableFuture<Void>> all = new java.util.ArrayList<>();
            for (int i = 0; i < 50; i++) {
                String id = "big-" + i;
                all.add(CompletableFuture.runAsync(() -> order.add(id), big));
            }
            for (int i = 0; i < 3; i++) {
                String id = "small-" + i;
                all.add(CompletableFuture.runAsync(() -> order.add(id), small));
            }
            assertEquals(53, pool.queued());

            hold.countDown();
            CompletableFuture.allOf(all.toArray(CompletableFuture[]::new)).get(10, TimeUnit.SECONDS);

            assertEquals(java.util.List.of("big-0", "small-0", "big-1", "small-1", "big-2", "small-2", "big-3"),
                    order.subList(0, 7), "round-robin between the lanes");
            java.util.List<String> bigOnly = order.stream().filter(s -> s.startsWith("big-")).toList();
            assertEquals(java.util.stream.IntStream.range(0, 50).mapToObj(i -> "big-" + i).toList(), bigOnly,
                    "FIFO within a lane");
            assertEquals(0, pool.queued());
        }
    }

    /** A lane that empties leaves the rotation and joins it again at the back when it gets more work. */
    @Test
    void anEmptiedLaneRejoinsAtTheBack() throws Exception {
        FairLaneQueue q = new FairLaneQueue();
        Object a = new Object();
        Object b = new Object();
        java.util.List<String> ran = new java.util.ArrayList<>();
        java.util.function.BiFunction<Object, String, Runnable> task = (lane, id) -> new FairLaneQueue.Laned() {
            @Override
            public Object lane() {
                return lane;
            }

            @Override
            public void run() {
                ran.add(id);
            }
        };
        q.offer(task.apply(a, "a1"));
        q.offer(task.apply(b, "b1"));
        q.offer(task.apply(b, "b2"));
        q.poll().run();                      // a1: lane a is empty now and leaves
        q.offer(task.apply(a, "a2"));        // a rejoins behind b
        q.offer(() -> ran.add("plain"));     // no lane: the default lane, last
        while (!q.isEmpty()) {
            q.take().run();
        }
        assertEquals(java.util.List.of("a1", "b1", "a2", "plain", "b2"), ran);
        assertEquals(0, q.lanes());
        assertEquals(null, q.poll(1, TimeUnit.MILLISECONDS));
    }
}
