package dev.timbre.audio;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/** Exact sample values: libsndfile's float scaling (what soundfile hands librosa) and float32 channel means. */
class WavDecoderTest {
    private static final AudioLoader LOADER = new AudioLoader(AudioLimits.DEFAULT);

    private static float[] decode(byte[] wav) {
        return LOADER.decode(wav).mono();
    }

    @Test
    void unsigned8BitIsCentredOn128() {
        byte[] wav = TestWav.create().fmt(TestWav.PCM, 1, 8000, 8)
                .data(new byte[] {0, 1, (byte) 127, (byte) 128, (byte) 129, (byte) 255}).bytes();
        assertArrayEquals(new float[] {-1f, -127f / 128, -1f / 128, 0f, 1f / 128, 127f / 128}, decode(wav));
    }

    @Test
    void signed16BitDividesBy32768() {
        byte[] wav = TestWav.create().fmt(TestWav.PCM, 1, 8000, 16)
                .data(TestWav.int16(-32768, -1, 0, 1, 32767)).bytes();
        assertArrayEquals(new float[] {-1f, -1f / 32768, 0f, 1f / 32768, 32767f / 32768}, decode(wav));
    }

    @Test
    void signed24BitDividesBy2To23() {
        byte[] wav = TestWav.create().fmt(TestWav.PCM, 1, 8000, 24)
                .data(TestWav.int24(-8388608, -1, 1, 8388607, 0x123456)).bytes();
        assertArrayEquals(new float[] {-1f, -0x1p-23f, 0x1p-23f, 8388607 * 0x1p-23f, 0x123456 * 0x1p-23f},
                decode(wav));
    }

    @Test
    void signed32BitRoundsToFloatThenDividesBy2To31() {
        byte[] wav = TestWav.create().fmt(TestWav.PCM, 1, 8000, 32)
                .data(TestWav.int32(Integer.MIN_VALUE, -1, Integer.MAX_VALUE, 123456789)).bytes();
        assertArrayEquals(new float[] {-1f, -0x1p-31f, 1f, (float) 123456789 * 0x1p-31f}, decode(wav));
    }

    @Test
    void floatsAreKeptAndDoublesRounded() {
        byte[] f32 = TestWav.create().fmt(TestWav.FLOAT, 1, 8000, 32).data(TestWav.float32(0.1f, -2.5f)).bytes();
        assertArrayEquals(new float[] {0.1f, -2.5f}, decode(f32), "no clipping, as soundfile");
        byte[] f64 = TestWav.create().fmt(TestWav.FLOAT, 1, 8000, 64).data(TestWav.float64(0.1, 1e-40)).bytes();
        assertArrayEquals(new float[] {(float) 0.1, (float) 1e-40}, decode(f64));
    }

    @Test
    void channelsAreAveragedInFloat32() {
        byte[] stereo = TestWav.create().fmt(TestWav.PCM, 2, 8000, 16)
                .data(TestWav.int16(32767, 32767, 1000, -1000, 3, 0)).bytes();
        assertArrayEquals(new float[] {32767f / 32768, 0f, (3f / 32768) / 2}, decode(stereo));
        float a = 0.1f;
        float b = 0.2f;
        float c = 0.7f;
        byte[] three = TestWav.create().fmt(TestWav.FLOAT, 3, 8000, 32).data(TestWav.float32(a, b, c)).bytes();
        assertArrayEquals(new float[] {((a + b) + c) / 3}, decode(three), "sequential float sum, then / 3");
    }

    @Test
    void extensibleWithPcmAndFloatSubformats() {
        byte[] pcm = TestWav.create().fmtExtensible(TestWav.PCM, 2, 48000, 24)
                .data(TestWav.int24(4194304, -4194304, 8388607, 8388607)).bytes();
        assertArrayEquals(new float[] {0f, 8388607 * 0x1p-23f}, decode(pcm));
        byte[] flt = TestWav.create().fmtExtensible(TestWav.FLOAT, 1, 48000, 32)
                .data(TestWav.float32(0.25f, -0.5f)).bytes();
        assertArrayEquals(new float[] {0.25f, -0.5f}, decode(flt));
        assertEquals(48000, LOADER.decode(flt).sampleRate());
    }

    @Test
    void partialTrailingFrameIsDropped() {
        byte[] data = TestWav.int16(100, 200, 300);
        byte[] odd = Arrays.copyOf(data, 5); // two whole frames and one byte of a third
        byte[] wav = TestWav.create().fmt(TestWav.PCM, 1, 8000, 16).data(odd).bytes();
        assertArrayEquals(new float[] {100f / 32768, 200f / 32768}, decode(wav));
    }
}
