package dev.timbre.audio;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Random mutations of valid WAV, FLAC, MP3 and Ogg Vorbis files: every outcome is either audio or an
 * {@link InvalidAudioException}, and the whole run finishes in bounded time. Ogg mutations get their page
 * checksums recomputed half of the time, so that JOrbis sees the damage instead of the page layer dropping it.
 * The seed is fixed; a failure names the iteration to replay.
 */
class AudioFuzzTest {
    private static final int ITERATIONS_PER_FORMAT = 500;
    private static final long SEED = 20261129L;

    @Test
    void mutatedFilesFailOnlyWithInvalidAudioException() {
        AudioLoader loader = new AudioLoader(new AudioLimits(8L << 20, 30.0),
                new Resampler(ResamplingFilter.KAISER_BEST), Duration.ofSeconds(10));
        byte[] wav = TestWav.create().fmt(TestWav.PCM, 2, 16000, 16)
                .chunk("LIST", new byte[9]).data(TestWav.sine16(3200, 16000, 440)).bytes();
        byte[][] seeds = {
            wav,
            AudioFormatsTest.read("flac_s24_mono_16000.flac"),
            AudioFormatsTest.read("mp3_mono_22050.mp3"),
            AudioFormatsTest.read("ogg_stereo_44100.ogg"),
        };
        String[] names = {"wav", "flac", "mp3", "ogg"};
        // each seed's own rate as the target: resampling is input-independent work, decoding is what is fuzzed
        int[] nativeRates = {16000, 16000, 22050, 44100};
        Random random = new Random(SEED);
        long[] slowestNanos = new long[seeds.length];
        int[] accepted = new int[seeds.length];
        assertTimeoutPreemptively(Duration.ofSeconds(120), () -> {
            for (int iteration = 0; iteration < ITERATIONS_PER_FORMAT; iteration++) {
                for (int f = 0; f < seeds.length; f++) {
                    byte[] mutated = mutate(seeds[f], random);
                    if (f == 3 && random.nextBoolean()) {
                        OggPages.fixChecksums(mutated);
                    }
                    long start = System.nanoTime();
                    try {
                        loader.load(mutated, nativeRates[f]);
                        accepted[f]++;
                    } catch (InvalidAudioException expected) {
                        if (expected.getMessage() == null || expected.getMessage().contains("\n")) {
                            fail(names[f] + " iteration " + iteration + ": message not one line: "
                                    + expected.getMessage());
                        }
                    } catch (Throwable unexpected) {
                        throw new AssertionError(names[f] + " iteration " + iteration + " (seed " + SEED
                                + ") threw " + unexpected, unexpected);
                    }
                    slowestNanos[f] = Math.max(slowestNanos[f], System.nanoTime() - start);
                }
            }
        });
        for (int f = 0; f < seeds.length; f++) {
            System.out.printf("fuzz %s: %d mutations, %d still decoded, slowest %.1f ms%n", names[f],
                    ITERATIONS_PER_FORMAT, accepted[f], slowestNanos[f] / 1e6);
        }
    }

    private static byte[] mutate(byte[] original, Random random) {
        byte[] data = original.clone();
        switch (random.nextInt(6)) {
            case 0 -> { // flip a few bytes, biased towards the headers
                int count = 1 + random.nextInt(8);
                for (int i = 0; i < count; i++) {
                    int limit = random.nextBoolean() ? Math.min(data.length, 256) : data.length;
                    data[random.nextInt(limit)] = (byte) random.nextInt(256);
                }
            }
            case 1 -> { // truncate
                data = Arrays.copyOf(data, random.nextInt(data.length));
            }
            case 2 -> { // an extreme 32-bit value where a size or rate could be
                int at = random.nextInt(Math.max(1, Math.min(data.length - 4, 512)));
                int value = new int[] {0, -1, Integer.MAX_VALUE, Integer.MIN_VALUE, 1}[random.nextInt(5)];
                for (int i = 0; i < 4 && at + i < data.length; i++) {
                    data[at + i] = (byte) (value >>> (8 * i));
                }
            }
            case 3 -> { // duplicate a region
                int from = random.nextInt(data.length);
                int length = Math.min(data.length - from, 1 + random.nextInt(2048));
                byte[] grown = new byte[data.length + length];
                System.arraycopy(data, 0, grown, 0, from + length);
                System.arraycopy(data, from, grown, from + length, data.length - from);
                data = grown;
            }
            case 4 -> { // zero a run
                int from = random.nextInt(data.length);
                Arrays.fill(data, from, Math.min(data.length, from + 1 + random.nextInt(64)), (byte) 0);
            }
            default -> { // random bit flips all over
                int count = 1 + random.nextInt(32);
                for (int i = 0; i < count; i++) {
                    data[random.nextInt(data.length)] ^= (byte) (1 << random.nextInt(8));
                }
            }
        }
        return data;
    }
}
