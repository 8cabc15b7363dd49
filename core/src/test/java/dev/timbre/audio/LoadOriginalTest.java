package dev.timbre.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** {@link AudioLoader#loadOriginal}: channels kept, FFmpeg's decoder sample format, the same limits as load. */
class LoadOriginalTest {
    private static final AudioLoader LOADER = new AudioLoader(AudioLimits.DEFAULT);
    private static final int PCM = 1;
    private static final int FLOAT = 3;

    @Test
    void stereoS16KeepsChannelsInterleavedAndExactlyScaled() {
        byte[] wav = TestWav.create().fmt(PCM, 2, 22050, 16).data(TestWav.int16(1, -1, 32767, -32768, 100, 0))
                .bytes();
        OriginalAudio original = LOADER.loadOriginal(wav);
        assertEquals(2, original.channels());
        assertEquals(22050, original.sampleRate());
        assertEquals(3, original.frames());
        assertEquals(OriginalAudio.SampleFormat.S16, original.decodedAs());
        assertArrayEquals(new float[] {1 / 32768f, -1 / 32768f, 32767 / 32768f, -1f, 100 / 32768f, 0f},
                original.interleaved());
    }

    @Test
    void wavSampleFormatsAreFfmpegsDecoderOutputs() {
        assertEquals(OriginalAudio.SampleFormat.U8, LOADER.loadOriginal(
                TestWav.create().fmt(PCM, 1, 8000, 8).data(new byte[] {(byte) 128, (byte) 255, 0, 1}).bytes())
                .decodedAs());
        assertEquals(OriginalAudio.SampleFormat.S32, LOADER.loadOriginal(
                TestWav.create().fmt(PCM, 1, 8000, 24).data(TestWav.int24(1, 2)).bytes()).decodedAs());
        assertEquals(OriginalAudio.SampleFormat.S32, LOADER.loadOriginal(
                TestWav.create().fmt(PCM, 1, 8000, 32).data(TestWav.int32(1, 2)).bytes()).decodedAs());
        assertEquals(OriginalAudio.SampleFormat.FLT, LOADER.loadOriginal(
                TestWav.create().fmt(FLOAT, 1, 8000, 32).data(TestWav.float32(0.5f)).bytes()).decodedAs());
        assertEquals(OriginalAudio.SampleFormat.DBL, LOADER.loadOriginal(
                TestWav.create().fmt(FLOAT, 1, 8000, 64).data(TestWav.float64(0.5)).bytes()).decodedAs());
    }

    @ParameterizedTest
    @CsvSource({
        "flac_s16_stereo_44100.flac, 44100, 2, S16",
        "flac_s24_mono_16000.flac, 16000, 1, S32",
        "mp3_mono_22050.mp3, 22050, 1, FLT",
        "mp3_stereo_44100.mp3, 44100, 2, FLT",
        "ogg_stereo_44100.ogg, 44100, 2, FLT",
        "wav_u8_mono_8000.wav, 8000, 1, U8",
        "wav_s24_mono_16000.wav, 16000, 1, S32",
        "wav_s32_stereo_48000.wav, 48000, 2, S32",
        "wav_f32_mono_22050.wav, 22050, 1, FLT",
        "wav_f64_stereo_44100.wav, 44100, 2, DBL",
    })
    void committedFormatsDecodeWithChannelsMatchingTheMonoMix(String name, int rate, int channels,
            OriginalAudio.SampleFormat format) throws IOException {
        byte[] bytes = resource(name);
        OriginalAudio original = LOADER.loadOriginal(bytes);
        assertEquals(rate, original.sampleRate());
        assertEquals(channels, original.channels());
        assertEquals(format, original.decodedAs());
        // the channels average to exactly what load's decode mixes (same float32 arithmetic)
        float[] mono = LOADER.decode(bytes).mono();
        assertEquals(mono.length, original.frames());
        for (int i = 0; i < mono.length; i += 97) {
            float sum = 0f;
            for (int c = 0; c < channels; c++) {
                sum += original.interleaved()[i * channels + c];
            }
            assertEquals(mono[i], channels == 1 ? sum : sum / channels, 0f, name + " frame " + i);
        }
    }

    @Test
    void moreThanTwoChannelsAreRefusedNamingTheCount() throws IOException {
        InvalidAudioException e = assertThrows(InvalidAudioException.class,
                () -> LOADER.loadOriginal(resource("wav_extensible_s24_4ch_16000.wav")));
        assertTrue(e.getMessage().contains("get-se supports mono and stereo; this file has 4 channels"),
                e.getMessage());
    }

    @Test
    void limitsAndErrorsAreLoads() {
        assertEquals("audio is empty: 0 bytes",
                assertThrows(InvalidAudioException.class, () -> LOADER.loadOriginal(new byte[0])).getMessage());
        byte[] wav = TestWav.create().fmt(PCM, 1, 8000, 16).data(TestWav.sine16(8000 * 3, 8000, 440)).bytes();
        AudioLoader small = new AudioLoader(new AudioLimits(1000, 600));
        assertTrue(assertThrows(InvalidAudioException.class, () -> small.loadOriginal(wav)).getMessage()
                .startsWith("audio too large"));
        AudioLoader short2s = new AudioLoader(new AudioLimits(1 << 20, 2.0));
        assertTrue(assertThrows(InvalidAudioException.class, () -> short2s.loadOriginal(wav)).getMessage()
                .startsWith("audio too long"));
        byte[] noFrames = TestWav.create().fmt(PCM, 2, 8000, 16).data(new byte[0]).bytes();
        assertEquals("audio is empty: 0 samples",
                assertThrows(InvalidAudioException.class, () -> LOADER.loadOriginal(noFrames)).getMessage());
        byte[] nan = TestWav.create().fmt(FLOAT, 2, 8000, 32).data(TestWav.float32(0f, Float.NaN)).bytes();
        assertTrue(assertThrows(InvalidAudioException.class, () -> LOADER.loadOriginal(nan)).getMessage()
                .startsWith("audio contains non-finite samples"));
        assertThrows(InvalidAudioException.class, () -> LOADER.loadOriginal("not audio at all".getBytes()));
    }

    private static byte[] resource(String name) throws IOException {
        try (InputStream in = LoadOriginalTest.class.getResourceAsStream("/audio/formats/" + name)) {
            return in.readAllBytes();
        }
    }
}
