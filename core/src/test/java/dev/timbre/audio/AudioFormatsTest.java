package dev.timbre.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Real files written by sox, flac, lame and oggenc (infra/model/make_format_samples.sh), all derived from one
 * 1.0 s stereo 44.1 kHz source WAV.
 */
class AudioFormatsTest {
    private static final AudioLoader LOADER = new AudioLoader(AudioLimits.DEFAULT);
    private static final Resampler RESAMPLER = new Resampler(ResamplingFilter.KAISER_BEST);

    @ParameterizedTest(name = "{0}: {1} Hz, {2} channels, {3} frames")
    @CsvSource({
        "source_s16_stereo_44100.wav,     44100, 2, 44100",
        "source_s16_mono_22050.wav,       22050, 1, 22050",
        "wav_u8_mono_8000.wav,             8000, 1,  8000",
        "wav_s24_mono_16000.wav,          16000, 1, 16000",
        "wav_s32_stereo_48000.wav,        48000, 2, 24000",
        "wav_f32_mono_22050.wav,          22050, 1, 22050",
        "wav_f64_stereo_44100.wav,        44100, 2, 11025",
        "wav_extensible_s24_4ch_16000.wav, 16000, 4, 8000",
        "flac_s16_stereo_44100.flac,      44100, 2, 44100",
        "flac_s24_mono_16000.flac,        16000, 1, 16000",
        "mp3_stereo_44100.mp3,            44100, 2, 44100",
        "mp3_mono_22050.mp3,              22050, 1, 22050",
        "ogg_stereo_44100.ogg,            44100, 2, 44100",
    })
    void decodesRateChannelsAndExactLength(String file, int rate, int channels, int frames) {
        DecodedAudio decoded = LOADER.decode(read(file));
        assertEquals(rate, decoded.sampleRate(), "sample rate");
        assertEquals(channels, decoded.channels(), "channels");
        assertEquals(frames, decoded.mono().length, "frames (MP3 and Ogg trimmed of encoder delay and padding)");

        LoadedAudio loaded = LOADER.load(read(file), 22050);
        assertEquals(rate, loaded.sampleRateIn());
        assertEquals(22050, loaded.sampleRate());
        assertEquals(frames / (double) rate, loaded.durationSeconds(), 1e-12);
        assertEquals(Resampler.outputLength(frames, rate, 22050), loaded.samples().length);
    }

    @Test
    void flacDecodesToExactlyItsSourceWav() {
        assertArrayEquals(LOADER.decode(read("source_s16_stereo_44100.wav")).mono(),
                LOADER.decode(read("flac_s16_stereo_44100.flac")).mono());
        assertArrayEquals(LOADER.decode(read("wav_s24_mono_16000.wav")).mono(),
                LOADER.decode(read("flac_s24_mono_16000.flac")).mono());
    }

    /**
     * sox resampled, remixed and requantized these; compared with the source resampled here, they must correlate
     * and keep the level (a wrong scale, sign, offset or channel layout fails this).
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "wav_u8_mono_8000.wav,              0.99",
        "wav_s24_mono_16000.wav,            0.999",
        "wav_s32_stereo_48000.wav,          0.999",
        "wav_f32_mono_22050.wav,            0.999",
        "wav_f64_stereo_44100.wav,          0.999",
        "wav_extensible_s24_4ch_16000.wav,  0.999",
    })
    void wavVariantsMatchTheSource(String file, double minCorrelation) {
        DecodedAudio variant = LOADER.decode(read(file));
        float[] source = RESAMPLER.resample(LOADER.decode(read("source_s16_stereo_44100.wav")).mono(), 44100,
                variant.sampleRate());
        Comparison comparison = compare(source, variant.mono(), 0);
        System.out.printf("%s: correlation %.6f, level ratio %.4f, SNR %.1f dB%n", file,
                comparison.correlation(), comparison.levelRatio(), comparison.snrDb());
        assertTrue(comparison.correlation() >= minCorrelation, file + " correlation " + comparison.correlation());
        assertEquals(1.0, comparison.levelRatio(), 0.02, file + " level ratio");
    }

    /**
     * Lossy codecs at 0 lag: after gapless trimming the decoded signal lines up with the source sample for sample.
     * Thresholds sit below the measured values (printed): correlation ≥ 0.995 and SNR ≥ 20 dB.
     */
    @ParameterizedTest(name = "{0}")
    @CsvSource({
        "mp3_stereo_44100.mp3, source_s16_stereo_44100.wav",
        "mp3_mono_22050.mp3,   source_s16_mono_22050.wav",
        "ogg_stereo_44100.ogg, source_s16_stereo_44100.wav",
    })
    void lossyFormatsLineUpWithTheirSource(String file, String sourceFile) {
        float[] decoded = LOADER.decode(read(file)).mono();
        float[] source = LOADER.decode(read(sourceFile)).mono();
        Comparison comparison = compare(source, decoded, 0);
        int bestLag = 0;
        double best = comparison.correlation();
        for (int lag = -1200; lag <= 1200; lag++) {
            double c = compare(source, decoded, lag).correlation();
            if (c > best + 1e-9) {
                best = c;
                bestLag = lag;
            }
        }
        System.out.printf("%s: correlation %.6f, SNR %.1f dB, level ratio %.4f, best lag %d%n", file,
                comparison.correlation(), comparison.snrDb(), comparison.levelRatio(), bestLag);
        assertEquals(0, bestLag, "decoded signal is aligned with the source");
        assertTrue(comparison.correlation() >= 0.995, file + " correlation " + comparison.correlation());
        assertTrue(comparison.snrDb() >= 20, file + " SNR " + comparison.snrDb() + " dB");
    }

    @Test
    void oneSharedLoaderGivesIdenticalResultsOnManyThreads() throws Exception {
        String[] files = {"flac_s16_stereo_44100.flac", "mp3_mono_22050.mp3", "ogg_stereo_44100.ogg",
            "wav_s24_mono_16000.wav"};
        float[][] expected = new float[files.length][];
        for (int i = 0; i < files.length; i++) {
            expected[i] = LOADER.load(read(files[i]), 22050).samples();
        }
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<float[]>> results = new ArrayList<>();
            for (int round = 0; round < 3; round++) {
                for (String file : files) {
                    byte[] bytes = read(file);
                    results.add(pool.submit(() -> LOADER.load(bytes, 22050).samples()));
                }
            }
            for (int i = 0; i < results.size(); i++) {
                assertArrayEquals(expected[i % files.length],
                        results.get(i).get(60, TimeUnit.SECONDS), files[i % files.length]);
            }
        } finally {
            pool.shutdownNow();
        }
    }

    record Comparison(double correlation, double snrDb, double levelRatio) {
    }

    /** Compares {@code b} shifted by {@code lag} with {@code a} over their overlap. */
    static Comparison compare(float[] a, float[] b, int lag) {
        double ab = 0, aa = 0, bb = 0, error = 0;
        for (int i = 0; i < a.length; i++) {
            int j = i + lag;
            if (j < 0 || j >= b.length) {
                continue;
            }
            ab += (double) a[i] * b[j];
            aa += (double) a[i] * a[i];
            bb += (double) b[j] * b[j];
            double d = (double) a[i] - b[j];
            error += d * d;
        }
        return new Comparison(ab / Math.sqrt(aa * bb), 10 * Math.log10(aa / error), Math.sqrt(bb / aa));
    }

    static byte[] read(String file) {
        try (InputStream in = AudioFormatsTest.class.getResourceAsStream("/audio/formats/" + file)) {
            if (in == null) {
                throw new IllegalStateException("missing test resource /audio/formats/" + file);
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
