package dev.timbre.blackbox;

import java.time.Duration;

/** The pause between two looks at something outside (a row, a queue, a port); an interrupt fails the test. */
final class Waits {

    private Waits() {
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
