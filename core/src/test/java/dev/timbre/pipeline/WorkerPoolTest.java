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
}
