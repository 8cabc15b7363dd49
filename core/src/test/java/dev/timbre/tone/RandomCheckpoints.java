package dev.timbre.tone;

import dev.timbre.tone.checkpoint.ConverterCheckpoint;
import dev.timbre.tone.checkpoint.ConverterConfig;
import dev.timbre.tone.checkpoint.Tensor;

import java.util.HashMap;
import java.util.Map;
import java.util.Random;

/** Seeded random {@code ref_enc} checkpoints at OpenVoice's real shapes, for tests that need no fixture file. */
final class RandomCheckpoints {
    static final ConverterConfig V2 = new ConverterConfig(22050, 1024, 256, 1024, 256, "v2");
    private static final int[][] CONV_CHANNELS = {{1, 32}, {32, 32}, {32, 64}, {64, 64}, {64, 128}, {128, 128}};

    private RandomCheckpoints() {
    }

    static ConverterCheckpoint create(long seed) {
        Random random = new Random(seed);
        Map<String, Tensor> t = new HashMap<>();
        put(t, "ref_enc.layernorm.weight", random, 1.0, 0.1, 513);
        put(t, "ref_enc.layernorm.bias", random, 0.0, 0.1, 513);
        for (int i = 0; i < CONV_CHANNELS.length; i++) {
            int in = CONV_CHANNELS[i][0];
            int out = CONV_CHANNELS[i][1];
            put(t, "ref_enc.convs." + i + ".weight_v", random, 0.0, 0.3, out, in, 3, 3);
            put(t, "ref_enc.convs." + i + ".weight_g", random, 1.0, 0.2, out, 1, 1, 1);
            put(t, "ref_enc.convs." + i + ".bias", random, 0.0, 0.05, out);
        }
        put(t, "ref_enc.gru.weight_ih_l0", random, 0.0, 0.03, 384, 1152);
        put(t, "ref_enc.gru.weight_hh_l0", random, 0.0, 0.09, 384, 128);
        put(t, "ref_enc.gru.bias_ih_l0", random, 0.0, 0.1, 384);
        put(t, "ref_enc.gru.bias_hh_l0", random, 0.0, 0.1, 384);
        put(t, "ref_enc.proj.weight", random, 0.0, 0.09, 256, 128);
        put(t, "ref_enc.proj.bias", random, 0.0, 0.1, 256);
        return new ConverterCheckpoint(V2, t, "random:" + seed);
    }

    /** A voice-like test signal: two partials with vibrato plus a little noise, peak about 0.55. */
    static float[] signal(int samples, long seed) {
        Random random = new Random(seed);
        float[] y = new float[samples];
        for (int i = 0; i < samples; i++) {
            double t = i / 22050.0;
            y[i] = (float) (0.3 * Math.sin(2 * Math.PI * 220 * t + 0.5 * Math.sin(2 * Math.PI * 5 * t))
                    + 0.2 * Math.sin(2 * Math.PI * 1375 * t) + 0.05 * random.nextGaussian());
        }
        return y;
    }

    private static void put(Map<String, Tensor> map, String key, Random random, double mean, double std,
                            long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        float[] data = new float[Math.toIntExact(n)];
        for (int i = 0; i < data.length; i++) {
            data[i] = (float) (mean + std * random.nextGaussian());
        }
        map.put(key, new Tensor(key, shape, data));
    }
}
