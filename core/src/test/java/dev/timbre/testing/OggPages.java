package dev.timbre.testing;

/** Ogg page arithmetic for tests that build or mutate Ogg streams (RFC 3533 §6). */
public final class OggPages {

    private OggPages() {
    }

    /** The length of the page at {@code at}: header, segment table and body, as far as the table is present. */
    public static int length(byte[] ogg, int at) {
        int segments = ogg[at + 26] & 0xFF;
        int body = 0;
        for (int i = 0; i < segments && at + 27 + i < ogg.length; i++) {
            body += ogg[at + 27 + i] & 0xFF;
        }
        return 27 + segments + body;
    }

    /**
     * Recomputes the CRC of the page at {@code at} over the bytes present (Ogg's CRC-32, polynomial 0x04C11DB7, no
     * reflection), so that a decoder reads a mutated page instead of skipping it as corrupt.
     */
    public static void fixCrc(byte[] ogg, int at) {
        int length = Math.min(length(ogg, at), ogg.length - at);
        for (int i = 22; i < 26; i++) {
            ogg[at + i] = 0;
        }
        int crc = 0;
        for (int i = at; i < at + length; i++) {
            crc ^= (ogg[i] & 0xFF) << 24;
            for (int bit = 0; bit < 8; bit++) {
                crc = (crc & 0x80000000) != 0 ? (crc << 1) ^ 0x04C11DB7 : crc << 1;
            }
        }
        for (int i = 0; i < 4; i++) {
            ogg[at + 22 + i] = (byte) (crc >>> (8 * i));
        }
    }
}
