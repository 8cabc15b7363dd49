package dev.timbre.audio;

import java.math.BigDecimal;
import java.math.RoundingMode;

/** Number formats shared by the one-line error messages of this package. */
final class AudioText {
    private AudioText() {
    }

    /** Seconds with at most 3 decimals and at least one: 700.0, 600.042, 0.5. */
    static String seconds(double seconds) {
        if (!Double.isFinite(seconds)) {
            return String.valueOf(seconds);
        }
        BigDecimal rounded = BigDecimal.valueOf(seconds).setScale(3, RoundingMode.HALF_UP).stripTrailingZeros();
        if (rounded.scale() < 1) {
            rounded = rounded.setScale(1, RoundingMode.UNNECESSARY);
        }
        return rounded.toPlainString();
    }

    /** Up to {@code count} bytes from {@code offset} as upper-case hex pairs separated by spaces. */
    static String hex(byte[] data, int offset, int count) {
        StringBuilder text = new StringBuilder();
        int end = Math.min(data.length, offset + count);
        for (int i = offset; i < end; i++) {
            if (text.length() > 0) {
                text.append(' ');
            }
            text.append(String.format("%02X", data[i] & 0xFF));
        }
        return text.toString();
    }
}
