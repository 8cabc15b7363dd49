package dev.timbre.local;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Writes mono 16-bit PCM WAV files: the format every tool reads, for synthesised demo uploads. */
public final class WavWriter {

    private WavWriter() {
    }

    public static byte[] pcm16(float[] samples, int sampleRate) {
        int dataBytes = samples.length * 2;
        ByteBuffer b = ByteBuffer.allocate(44 + dataBytes).order(ByteOrder.LITTLE_ENDIAN);
        b.put(new byte[] {'R', 'I', 'F', 'F'}).putInt(36 + dataBytes).put(new byte[] {'W', 'A', 'V', 'E'});
        b.put(new byte[] {'f', 'm', 't', ' '}).putInt(16).putShort((short) 1).putShort((short) 1)
                .putInt(sampleRate).putInt(sampleRate * 2).putShort((short) 2).putShort((short) 16);
        b.put(new byte[] {'d', 'a', 't', 'a'}).putInt(dataBytes);
        for (float s : samples) {
            float clipped = Math.max(-1f, Math.min(1f, s));
            b.putShort((short) Math.round(clipped * 32767f));
        }
        return b.array();
    }
}
