package dev.timbre.bridge.testing;

import java.time.Duration;
import java.util.function.BooleanSupplier;

/** Polling with a deadline: the condition is the synchronisation, the pause only spares the shared CPUs. */
public final class Poll {

    private Poll() {
    }

    /** Waits until {@code condition} holds; returns false if {@code timeout} passed first. */
    public static boolean until(Duration timeout, BooleanSupplier condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                return false;
            }
            pause();
        }
        return true;
    }

    public static void pause() {
        try {
            Thread.sleep(50);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while polling", e);
        }
    }
}
