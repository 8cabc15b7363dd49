package dev.timbre.bridge.sqs;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Exponential backoff with full jitter: attempt n waits a uniformly random time in [base/2, min(cap, base·2ⁿ)], so
 * many senders retrying after one outage do not return in lock-step
 * (https://aws.amazon.com/blogs/architecture/exponential-backoff-and-jitter/). Immutable and thread-safe.
 */
public record Backoff(Duration base, Duration cap) {

    public Backoff {
        if (base.isNegative() || base.isZero() || cap.compareTo(base) < 0) {
            throw new IllegalArgumentException("need 0 < base <= cap, got base=" + base + " cap=" + cap);
        }
    }

    /** Delay before retry number {@code attempt} (1-based). */
    public Duration delay(int attempt) {
        long baseMs = base.toMillis();
        long ceiling = Math.min(cap.toMillis(), baseMs << Math.min(Math.max(attempt - 1, 0), 20));
        long floor = Math.min(baseMs / 2, ceiling);
        return Duration.ofMillis(ThreadLocalRandom.current().nextLong(floor, ceiling + 1));
    }
}
