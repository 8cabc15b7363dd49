package dev.timbre.tone;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class ToneColorConverterTest {
    private static ToneColorWeights weights;

    @BeforeAll
    static void loadWeights() {
        weights = ToneColorWeights.from(RandomCheckpoints.create(3));
    }

    @AfterAll
    static void closeWeights() {
        weights.close();
    }

    @Test
    void earlySubBlocksGiveBitIdenticalEmbeddingsToWholeBlockConvs() {
        // The first two convs run over sub-blocks of about 32 layer-2 rows, for cache locality
        // (ReferenceEncoder#features), with TimeBlocks' halo rule one level down: the sums are the whole-block
        // conv's. Three-row sub-blocks stress the halo; tiny conv inputs may differ in the last bit.
        try (ToneColorConverter whole = new ToneColorConverter(weights, Integer.MAX_VALUE, Integer.MAX_VALUE);
             ToneColorConverter sub = new ToneColorConverter(weights);
             ToneColorConverter tiny = new ToneColorConverter(weights, ToneColorConverter.DEFAULT_BLOCK_OUTPUTS, 3)) {
            for (int samples : new int[] {3 * 22050, 10 * 22050, 30 * 22050}) {
                float[] y = RandomCheckpoints.signal(samples, samples + 1);
                float[] expected = whole.embed(y);
                assertArrayEquals(expected, sub.embed(y), samples + " samples, default sub-blocks");
                assertArrayEquals(expected, tiny.embed(y), 1e-6f, samples + " samples, 3-row sub-blocks");
            }
        }
    }

    @Test
    void theFusedConvReluGivesTheEmbeddingsOfConvThenRelu() {
        // FusedConvRelu runs a oneDNN convolution with the ReLU as a post-op instead of a second pass. With the
        // post-op oneDNN may pick another kernel (another summation order) for some layers: measured 1–3 ulp apart,
        // against 1e-4 that the goldens allow.
        try (ToneColorConverter fused = new ToneColorConverter(weights);
             ToneColorConverter unfused = new ToneColorConverter(weights, ToneColorConverter.DEFAULT_BLOCK_OUTPUTS,
                     ReferenceEncoder.DEFAULT_EARLY_ROWS, false)) {
            for (int samples : new int[] {1000, 3 * 22050, 30 * 22050}) {
                float[] y = RandomCheckpoints.signal(samples, samples + 2);
                assertArrayEquals(unfused.embed(y), fused.embed(y), 2e-6f, samples + " samples");
            }
        }
    }

    @Test
    void timeBlocksGiveBitIdenticalEmbeddingsToTheWholeFileConv() {
        // 30 s: T' = 41; 50 s: T' = 68. The whole-file run is what OpenVoice computes (one conv over all
        // frames); the default blocks must not change a single bit. One-row blocks stress every halo and edge
        // case; their tiny conv inputs make libtorch pick another kernel, so they may differ in the last bit
        // (measured: 1 ulp), but a wrong halo row or stride phase would move the embedding by far more.
        try (ToneColorConverter whole = new ToneColorConverter(weights, Integer.MAX_VALUE);
             ToneColorConverter blocked = new ToneColorConverter(weights);
             ToneColorConverter oneRow = new ToneColorConverter(weights, 1)) {
            for (int samples : new int[] {30 * 22050, 1_100_000}) {
                float[] y = RandomCheckpoints.signal(samples, samples);
                float[] expected = whole.embed(y);
                assertArrayEquals(expected, blocked.embed(y), samples + " samples, default blocks");
                assertArrayEquals(expected, oneRow.embed(y), 1e-6f, samples + " samples, one-row blocks");
            }
        }
    }

    @Test
    void shortestAcceptedInputIsOnePastTheReflectPad() {
        try (ToneColorConverter converter = new ToneColorConverter(weights)) {
            IllegalArgumentException tooShort = assertThrows(IllegalArgumentException.class,
                    () -> converter.embed(new float[384]));
            assertTrue(tooShort.getMessage().contains("need at least 385"), tooShort.getMessage());

            float[] embedding = converter.embed(RandomCheckpoints.signal(385, 1));
            assertEquals(256, embedding.length);
            for (float v : embedding) {
                assertTrue(Float.isFinite(v));
            }
        }
    }

    @Test
    void nonFiniteSamplesAreRejectedWithTheirIndex() {
        try (ToneColorConverter converter = new ToneColorConverter(weights)) {
            float[] y = RandomCheckpoints.signal(2000, 2);
            y[1234] = Float.NaN;
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> converter.embed(y));
            assertTrue(e.getMessage().contains("sample 1234 is NaN"), e.getMessage());
        }
    }

    @Test
    void aConverterRefusesCallsFromAnotherThread() throws Exception {
        try (ToneColorConverter converter = new ToneColorConverter(weights)) {
            CompletableFuture<float[]> elsewhere = CompletableFuture.supplyAsync(
                    () -> converter.embed(RandomCheckpoints.signal(4000, 3)));
            ExecutionException e = assertThrows(ExecutionException.class, elsewhere::get);
            assertInstanceOf(IllegalStateException.class, e.getCause());
        }
    }

    @Test
    void nothingOutlivesACallAndRepeatedCallsAgree() {
        try (ToneColorConverter converter = new ToneColorConverter(weights)) {
            float[] y = RandomCheckpoints.signal(5 * 22050, 4);
            float[] first = converter.embed(y);
            for (int i = 0; i < 5; i++) {
                assertTrue(Arrays.equals(first, converter.embed(y)), "call " + i);
            }
            assertEquals(0, converter.liveArrays(), "arrays left in the converter's manager");
        }
    }
}
