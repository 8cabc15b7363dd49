package dev.timbre.audio;

/** Rewrites the checksums of Ogg pages, so that a test can alter a page and still have it accepted. */
final class OggPages {
    private static final int[] TABLE = new int[256];

    static {
        for (int i = 0; i < 256; i++) {
            int r = i << 24;
            for (int j = 0; j < 8; j++) {
                r = (r & 0x80000000) != 0 ? (r << 1) ^ 0x04C11DB7 : r << 1;
            }
            TABLE[i] = r;
        }
    }

    private OggPages() {
    }

    /** Recomputes the CRC of every well-formed page in place; stops at the first that does not parse. */
    static void fixChecksums(byte[] data) {
        int at = 0;
        while (at + 27 <= data.length && AudioFormat.startsWith(data, at, "OggS")) {
            int segments = data[at + 26] & 0xFF;
            if (at + 27 + segments > data.length) {
                return;
            }
            int length = 27 + segments;
            for (int i = 0; i < segments; i++) {
                length += data[at + 27 + i] & 0xFF;
            }
            if (at + length > data.length) {
                return;
            }
            for (int i = 22; i < 26; i++) {
                data[at + i] = 0;
            }
            int crc = 0;
            for (int i = at; i < at + length; i++) {
                crc = (crc << 8) ^ TABLE[((crc >>> 24) & 0xFF) ^ (data[i] & 0xFF)];
            }
            data[at + 22] = (byte) crc;
            data[at + 23] = (byte) (crc >>> 8);
            data[at + 24] = (byte) (crc >>> 16);
            data[at + 25] = (byte) (crc >>> 24);
            at += length;
        }
    }

    /** Offset of the first occurrence of {@code pattern} at or after {@code from}, or -1. */
    static int indexOf(byte[] data, byte[] pattern, int from) {
        outer:
        for (int i = Math.max(0, from); i + pattern.length <= data.length; i++) {
            for (int j = 0; j < pattern.length; j++) {
                if (data[i + j] != pattern[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }
}
