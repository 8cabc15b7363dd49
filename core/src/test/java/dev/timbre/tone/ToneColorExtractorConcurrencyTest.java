package dev.timbre.tone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.audio.AudioLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** docs/architecture.md §7: weights once per process, one converter per thread, and threads that cannot change a bit. */
class ToneColorExtractorConcurrencyTest {
    private static final Path CONVERTER = Path.of("../infra/model/fixtures/converter");
    private static final int THREADS = 8;
    private static final int ROUNDS = 3;

    @Test
    void eightThreadsGiveBitIdenticalEmbeddingsToOneThread() throws Exception {
        try (ToneColorExtractor extractor = ToneColorExtractor.load(CONVERTER, AudioLimits.DEFAULT)) {
            // Different lengths (0.05 s to 14 s, the last one over a block boundary) so threads run different
            // shapes at the same time.
            int[] lengths = {1_100, 9_000, 22_050, 50_000, 80_000, 120_000, 200_000, 310_000};
            List<float[]> inputs = new ArrayList<>();
            List<float[]> singleThreaded = new ArrayList<>();
            for (int i = 0; i < lengths.length; i++) {
                inputs.add(RandomCheckpoints.signal(lengths[i], 100 + i));
                singleThreaded.add(extractor.embed(inputs.get(i)));
            }

            ExecutorService pool = Executors.newFixedThreadPool(THREADS);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<List<float[]>>> futures = new ArrayList<>();
                for (int t = 0; t < THREADS; t++) {
                    int offset = t;
                    futures.add(pool.submit(() -> {
                        start.await();
                        List<float[]> results = new ArrayList<>(); // result r is input (offset + r) % n
                        for (int r = 0; r < ROUNDS * inputs.size(); r++) {
                            results.add(extractor.embed(inputs.get((offset + r) % inputs.size())));
                        }
                        return results;
                    }));
                }
                start.countDown();
                for (int t = 0; t < THREADS; t++) {
                    List<float[]> results = futures.get(t).get(5, TimeUnit.MINUTES);
                    for (int r = 0; r < results.size(); r++) {
                        int input = (t + r) % inputs.size();
                        assertTrue(Arrays.equals(singleThreaded.get(input), results.get(r)),
                                "thread " + t + " call " + r + " (input " + input + ") differs from one thread");
                    }
                }
            } finally {
                pool.shutdownNow();
            }
            assertEquals(1 + THREADS, extractor.convertersCreated(), "one converter per thread that embedded");
        }
    }

    @Test
    void eachThreadKeepsItsOwnConverterAndWeightsAreLoadedOnce() throws Exception {
        int loadsBefore = ToneColorExtractor.weightLoads();
        try (ToneColorExtractor first = ToneColorExtractor.load(CONVERTER, AudioLimits.DEFAULT);
             ToneColorExtractor second = ToneColorExtractor.load(CONVERTER, AudioLimits.DEFAULT)) {
            int loadsAfterFirst = ToneColorExtractor.weightLoads();
            // 1 unless another extractor of this directory is still open in this JVM (then it shares that one)
            assertTrue(loadsAfterFirst - loadsBefore <= 1, "loads: " + loadsBefore + " → " + loadsAfterFirst);
            assertSame(first.weights(), second.weights(), "a second load shares the weights");

            ExecutorService pool = Executors.newFixedThreadPool(4);
            try {
                Map<ToneColorConverter, Boolean> seen = new IdentityHashMap<>();
                List<Future<ToneColorConverter>> futures = new ArrayList<>();
                for (int t = 0; t < 4; t++) {
                    futures.add(pool.submit(() -> {
                        ToneColorConverter mine = first.converterForCurrentThread();
                        for (int i = 0; i < 5; i++) {
                            first.embed(RandomCheckpoints.signal(5_000 + i, i));
                            assertSame(mine, first.converterForCurrentThread(), "same converter on every call");
                        }
                        return mine;
                    }));
                }
                for (Future<ToneColorConverter> f : futures) {
                    seen.put(f.get(1, TimeUnit.MINUTES), true);
                }
                assertEquals(4, seen.size(), "four threads, four distinct converters");
                assertEquals(4, first.convertersCreated());
            } finally {
                pool.shutdownNow();
            }
            assertEquals(loadsAfterFirst, ToneColorExtractor.weightLoads(), "no load after the first");
        }
    }

    @Test
    void closedExtractorRefusesWorkAndLastCloseFreesSharedWeights(@TempDir Path dir) throws IOException {
        // A private copy: other tests in this JVM may hold extractors on the shared fixture directory, and the
        // weights of one directory are shared (and only released by its last holder).
        Path converter = Files.createDirectories(dir.resolve("converter"));
        for (String name : new String[] {"config.json", "checkpoint.pth"}) {
            Files.copy(CONVERTER.resolve(name), converter.resolve(name));
        }
        ToneColorExtractor first = ToneColorExtractor.load(converter, AudioLimits.DEFAULT);
        ToneColorExtractor second = ToneColorExtractor.load(converter, AudioLimits.DEFAULT);
        float[] y = RandomCheckpoints.signal(3_000, 9);
        float[] expected = first.embed(y);

        first.close();
        first.close(); // idempotent
        assertThrows(IllegalStateException.class, () -> first.embed(y));
        assertThrows(IllegalStateException.class, first::converterForCurrentThread);
        assertTrue(Arrays.equals(expected, second.embed(y)), "the other extractor still has the weights");
        second.close();

        int loads = ToneColorExtractor.weightLoads();
        try (ToneColorExtractor reopened = ToneColorExtractor.load(converter, AudioLimits.DEFAULT)) {
            assertEquals(loads + 1, ToneColorExtractor.weightLoads(), "released weights are loaded again");
            assertTrue(Arrays.equals(expected, reopened.embed(y)));
        }
    }

    @Test
    void meanIsArithmeticAndRejectsNothingToAverage() {
        float[] mean = ToneColorExtractor.mean(List.of(new float[] {1, 2, -3}, new float[] {3, 2, 0}));
        assertTrue(Arrays.equals(new float[] {2, 2, -1.5f}, mean), Arrays.toString(mean));
        assertThrows(IllegalArgumentException.class, () -> ToneColorExtractor.mean(List.of()));
        assertThrows(IllegalArgumentException.class,
                () -> ToneColorExtractor.mean(List.of(new float[2], new float[3])));
    }
}
