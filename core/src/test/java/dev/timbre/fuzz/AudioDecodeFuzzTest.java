package dev.timbre.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.audio.AudioLimits;
import dev.timbre.audio.AudioLoader;
import dev.timbre.audio.InvalidAudioException;
import dev.timbre.audio.LoadedAudio;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Structure-aware generation of WAV, FLAC, MP3 and Ogg Vorbis inputs for the decode path ({@link AudioLoader} with
 * the production limits): header fields drawn from usual and extreme values (0, 1, 2^15, 2^31, 2^32 − 1 …), sizes
 * that lie, checksums recomputed so that the codec sees the damage, and mutated frames behind valid headers
 * ({@link AudioInputs}).
 * (Plain byte mutation of whole files is {@code dev.timbre.audio.AudioFuzzTest}.)
 *
 * <p>Property: the result is mono audio at the target rate with at least 385 finite samples and at most 600 s, or
 * an {@link InvalidAudioException} with a one-line message; nothing else escapes, each input finishes within
 * {@link #PER_INPUT}, and the decoding thread allocates at most {@link #MAX_ALLOCATION} bytes.
 */
class AudioDecodeFuzzTest {
    /**
     * The worst legal input is tiny and slow: a 14 KB WAV at 8 Hz holds 600 s, which resamples to 13.2 M samples
     * (12 s on a loaded 2-core CI machine; the same cost as any 600 s recording). The bound sits above that.
     */
    private static final Duration PER_INPUT = Duration.ofSeconds(30);
    /** A 600 s recording at a very low rate resamples to 13 M samples (53 MB) and is still legal. */
    private static final long MAX_ALLOCATION = 512L << 20;
    private static final Path FORMATS = Path.of("src", "test", "resources", "audio", "formats");

    private final AudioLoader loader = new AudioLoader(AudioLimits.DEFAULT);

    @Test
    void generatedWavHeaders() {
        Fuzz.forAll("decode: generated WAV", 300, PER_INPUT, r -> check(AudioInputs.wav(r)));
    }

    @Test
    void flacWithGeneratedStreamInfoAndMutatedFrames() throws IOException {
        byte[] flac = Files.readAllBytes(FORMATS.resolve("flac_s24_mono_16000.flac"));
        Fuzz.forAll("decode: FLAC STREAMINFO + frames", 200, PER_INPUT, r -> check(AudioInputs.flac(r, flac)));
    }

    @Test
    void mp3WithGeneratedTagsAndFrameHeaders() throws IOException {
        byte[] mp3 = Files.readAllBytes(FORMATS.resolve("mp3_mono_22050.mp3"));
        Fuzz.forAll("decode: MP3 tags + frame headers", 250, PER_INPUT, r -> check(AudioInputs.mp3(r, mp3)));
    }

    @Test
    void oggWithGeneratedHeadersAndValidChecksums() throws IOException {
        byte[] ogg = Files.readAllBytes(FORMATS.resolve("ogg_stereo_44100.ogg"));
        Fuzz.forAll("decode: Ogg Vorbis headers (CRC fixed)", 150, PER_INPUT, r -> check(AudioInputs.ogg(r, ogg)));
    }

    private void check(byte[] input) {
        long before = allocated();
        try {
            LoadedAudio audio = loader.load(input, 22050);
            assertEquals(22050, audio.sampleRate());
            assertTrue(audio.samples().length >= AudioLimits.MIN_SAMPLES, "too few samples accepted");
            assertTrue(audio.durationSeconds() <= AudioLimits.DEFAULT.maxSeconds(), "too long accepted");
            for (float v : audio.samples()) {
                assertTrue(Float.isFinite(v), "non-finite sample accepted");
            }
        } catch (InvalidAudioException e) {
            Fuzz.assertOneLine("InvalidAudioException", e.getMessage(), 400);
        }
        long allocated = allocated() - before;
        assertTrue(allocated <= MAX_ALLOCATION, "allocated " + (allocated >> 20) + " MiB for " + input.length + " bytes");
    }

    private static long allocated() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
