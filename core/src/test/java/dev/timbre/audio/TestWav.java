package dev.timbre.audio;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;

/** Builds WAV files byte by byte, including ones no honest writer would produce. */
final class TestWav {
    static final int PCM = 1;
    static final int FLOAT = 3;
    static final int EXTENSIBLE = 0xFFFE;

    private final ByteArrayOutputStream chunks = new ByteArrayOutputStream();
    private Long riffSizeOverride;

    static TestWav create() {
        return new TestWav();
    }

    /** A plain fmt chunk with a consistent block align and byte rate. */
    TestWav fmt(int tag, int channels, long sampleRate, int bits) {
        ByteBuffer body = le(16);
        body.putShort((short) tag).putShort((short) channels).putInt((int) sampleRate)
                .putInt((int) (sampleRate * channels * bits / 8)).putShort((short) (channels * bits / 8))
                .putShort((short) bits);
        return chunk("fmt ", body.array());
    }

    /** WAVE_FORMAT_EXTENSIBLE with the KSDATAFORMAT_SUBTYPE GUID of {@code subformat} (1 PCM, 3 float). */
    TestWav fmtExtensible(int subformat, int channels, int sampleRate, int bits) {
        ByteBuffer body = le(40);
        body.putShort((short) EXTENSIBLE).putShort((short) channels).putInt(sampleRate)
                .putInt(sampleRate * channels * bits / 8).putShort((short) (channels * bits / 8))
                .putShort((short) bits).putShort((short) 22).putShort((short) bits).putInt(0)
                .putShort((short) subformat)
                .put(new byte[] {0, 0, 0, 0, 0x10, 0, (byte) 0x80, 0, 0, (byte) 0xAA, 0, 0x38, (byte) 0x9B, 0x71});
        return chunk("fmt ", body.array());
    }

    TestWav chunk(String id, byte[] body) {
        return chunk(id, body.length, body);
    }

    /** A chunk whose declared size may lie about its body; a pad byte follows an odd body. */
    TestWav chunk(String id, long declaredSize, byte[] body) {
        ByteBuffer header = le(8);
        header.put(id.getBytes(StandardCharsets.US_ASCII)).putInt((int) declaredSize);
        chunks.writeBytes(header.array());
        chunks.writeBytes(body);
        if (body.length % 2 == 1 && declaredSize == body.length) {
            chunks.write(0);
        }
        return this;
    }

    TestWav data(byte[] samples) {
        return chunk("data", samples);
    }

    TestWav riffSize(long size) {
        riffSizeOverride = size;
        return this;
    }

    byte[] bytes() {
        byte[] body = chunks.toByteArray();
        ByteBuffer file = le(12 + body.length);
        file.put("RIFF".getBytes(StandardCharsets.US_ASCII))
                .putInt((int) (riffSizeOverride != null ? riffSizeOverride : 4 + body.length))
                .put("WAVE".getBytes(StandardCharsets.US_ASCII)).put(body);
        return file.array();
    }

    static byte[] int16(int... samples) {
        ByteBuffer b = le(samples.length * 2);
        for (int s : samples) {
            b.putShort((short) s);
        }
        return b.array();
    }

    static byte[] int24(int... samples) {
        ByteBuffer b = le(samples.length * 3);
        for (int s : samples) {
            b.put((byte) s).put((byte) (s >> 8)).put((byte) (s >> 16));
        }
        return b.array();
    }

    static byte[] int32(int... samples) {
        ByteBuffer b = le(samples.length * 4);
        for (int s : samples) {
            b.putInt(s);
        }
        return b.array();
    }

    static byte[] float32(float... samples) {
        ByteBuffer b = le(samples.length * 4);
        for (float s : samples) {
            b.putFloat(s);
        }
        return b.array();
    }

    static byte[] float64(double... samples) {
        ByteBuffer b = le(samples.length * 8);
        for (double s : samples) {
            b.putDouble(s);
        }
        return b.array();
    }

    /** A 16-bit mono sine of {@code frames} frames. */
    static byte[] sine16(int frames, int sampleRate, double hz) {
        int[] samples = new int[frames];
        for (int i = 0; i < frames; i++) {
            samples[i] = (int) Math.round(12000 * Math.sin(2 * Math.PI * hz * i / sampleRate));
        }
        return int16(samples);
    }

    private static ByteBuffer le(int size) {
        return ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
    }
}
