package dev.timbre.tone;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.timbre.tone.checkpoint.ConverterCheckpoint;
import dev.timbre.tone.checkpoint.Tensor;
import org.junit.jupiter.api.Test;

class ToneColorWeightsTest {

    @Test
    void weightNormScalesEachOutputChannelByGainOverItsOwnNorm() {
        // channel 0: v = (3, 4), ‖v‖ = 5, g = 10 → (6, 8); channel 1: v = (1, 0), g = -2 → (-2, -0), the
        // signed zero torch's v · (g / ‖v‖) gives too
        Tensor v = new Tensor("convs.0.weight_v", new long[] {2, 1, 1, 2}, new float[] {3, 4, 1, 0});
        Tensor g = new Tensor("convs.0.weight_g", new long[] {2, 1, 1, 1}, new float[] {10, -2});

        Tensor w = ToneColorWeights.weightNorm(g, v);

        assertArrayEquals(new float[] {6, 8, -2, -0f}, w.data());
        assertArrayEquals(v.shape(), w.shape());
        assertEquals("convs.0.weight", w.name());
    }

    @Test
    void weightNormHasNoEpsilon() {
        // With an epsilon in the denominator a tiny v would not come out at unit norm times g.
        Tensor v = new Tensor("w_v", new long[] {1, 1, 1, 2}, new float[] {3e-20f, 4e-20f});
        Tensor g = new Tensor("w_g", new long[] {1, 1, 1, 1}, new float[] {5});

        assertArrayEquals(new float[] {3, 4}, ToneColorWeights.weightNorm(g, v).data(), 1e-6f);
    }

    @Test
    void loadsCountsEachBuildAndExposesConfig() {
        ConverterCheckpoint checkpoint = RandomCheckpoints.create(7);
        int before = ToneColorWeights.loads();
        try (ToneColorWeights weights = ToneColorWeights.from(checkpoint)) {
            assertEquals(before + 1, ToneColorWeights.loads());
            assertEquals(256, weights.dimension());
            assertEquals("random:7", weights.modelId());
            assertEquals(22050, weights.config().samplingRate());
            assertArrayEquals(new long[] {32, 1, 3, 3}, weights.convWeight[0].getShape().getShape());
        }
    }
}
