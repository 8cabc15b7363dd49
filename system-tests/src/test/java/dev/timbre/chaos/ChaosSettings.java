package dev.timbre.chaos;

import java.time.Duration;
import java.util.Locale;

/**
 * What one chaos run does: how many messages of each kind, which path they take, the fault schedule and the bounds.
 * Built with {@link #builder()} (defaults: the full run of {@code bench/chaos.sh}) or from command-line flags with
 * {@link #fromArgs}.
 *
 * @param jobs        good jobs (1 s clips)
 * @param badAudio    jobs whose audio is undecodable (must end FAILED)
 * @param poison      poison messages (must end in the SQS DLQ, only they)
 * @param unsendable  messages no SQS request can carry (must end in the bridge's RabbitMQ dead-letter queue);
 *                    always 0 without the bridge
 * @param bridge      whether messages go RabbitMQ → bridge process → SQS (else straight to SQS)
 * @param ecsWorker   whether a real ECS worker process also consumes, and is SIGKILLed
 * @param faultPeriod one fault of the {@link Fault} catalogue is injected this often
 * @param submitOver  the messages are sent at a steady rate over this time, so faults meet work in flight
 * @param faultFor    how long the fault schedule runs; then the queue drains without faults
 * @param timeout     bound on the whole run
 * @param seed        seeds the fault schedule and the order of the messages
 */
public record ChaosSettings(int jobs, int badAudio, int poison, int unsendable, boolean bridge, boolean ecsWorker,
                            Duration faultPeriod, Duration submitOver, Duration faultFor, Duration timeout,
                            long seed) {

    /**
     * The flags {@link #fromArgs} reads, as {@code --help} prints them. {@code bench/chaos.sh --help} prints these
     * lines from this source without a build: keep them string literals, from the {@code usage:} line to
     * {@code --help}.
     */
    public static final String USAGE = String.join("\n",
            "usage: bench/chaos.sh [flags]",
            "  --jobs N            good jobs (default 200)",
            "  --bad N             jobs with undecodable audio, must end FAILED (default 10)",
            "  --poison N          poison messages, must end in the SQS DLQ (default 10)",
            "  --unsendable N      messages no SQS request can carry, must end in the bridge's dead-letter queue"
                    + " (default 4; 0 with --no-bridge)",
            "  --submit-seconds T  messages are sent at a steady rate over T s (default 60)",
            "  --fault-ms M        one fault every M ms (default 3000)",
            "  --fault-seconds T   faults for the first T s, then drain without faults (default 150)",
            "  --seconds T         bound on the whole run (default 480)",
            "  --seed S            seeds the fault schedule (default 7)",
            "  --no-ecs            no ECS worker process (Lambda side only)",
            "  --no-bridge         the producer sends straight to SQS",
            "  --write FILE        also write the figures as a markdown table to FILE",
            "  --help              this text");

    public ChaosSettings {
        requireNonNegative("jobs", jobs);
        requireNonNegative("bad", badAudio);
        requireNonNegative("poison", poison);
        requireNonNegative("unsendable", unsendable);
        if (!bridge && unsendable > 0) {
            throw new IllegalArgumentException("unsendable messages need the bridge (drop --no-bridge or set"
                    + " --unsendable 0)");
        }
        requirePositive("fault period", faultPeriod);
        requirePositive("submit time", submitOver);
        requirePositive("fault time", faultFor);
        requirePositive("timeout", timeout);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * The settings the flags of {@link #USAGE} ask for ({@code --write} and {@code --help} are the caller's; they
     * are skipped here). An unknown flag, a flag without its value or a value that is not a number is a one-line
     * {@link IllegalArgumentException} naming it.
     */
    public static ChaosSettings fromArgs(String... args) {
        Builder b = builder();
        for (int i = 0; i < args.length; i++) {
            String flag = args[i];
            switch (flag) {
                case "--no-ecs" -> b.ecsWorker(false);
                case "--no-bridge" -> b.bridge(false);
                case "--help", "-h" -> {
                    // the caller prints USAGE
                }
                case "--jobs", "--bad", "--poison", "--unsendable", "--submit-seconds", "--fault-ms", "--fault-seconds",
                        "--seconds", "--seed", "--write" -> {
                    if (i + 1 >= args.length) {
                        throw new IllegalArgumentException(flag + " needs a value");
                    }
                    String value = args[++i];
                    switch (flag) {
                        case "--jobs" -> b.jobs(number(flag, value));
                        case "--bad" -> b.badAudio(number(flag, value));
                        case "--poison" -> b.poison(number(flag, value));
                        case "--unsendable" -> b.unsendable(number(flag, value));
                        case "--submit-seconds" -> b.submitOver(Duration.ofSeconds(number(flag, value)));
                        case "--fault-ms" -> b.faultPeriod(Duration.ofMillis(number(flag, value)));
                        case "--fault-seconds" -> b.faultFor(Duration.ofSeconds(number(flag, value)));
                        case "--seconds" -> b.timeout(Duration.ofSeconds(number(flag, value)));
                        case "--seed" -> b.seed(number(flag, value));
                        default -> {
                            // --write: the caller's
                        }
                    }
                }
                default -> throw new IllegalArgumentException("unknown flag " + flag + " (see --help)");
            }
        }
        return b.build();
    }

    private static int number(String flag, String value) {
        try {
            return Integer.parseInt(value);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(flag + " wants a whole number, got \"" + value + "\"", e);
        }
    }

    private static void requireNonNegative(String what, int n) {
        if (n < 0) {
            throw new IllegalArgumentException(what + " must be 0 or more, got " + n);
        }
    }

    private static void requirePositive(String what, Duration d) {
        if (d == null || d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException(what + " must be more than 0, got " + d);
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d jobs, %d bad, %d poison, %d unsendable, %s, %s, a fault every %d ms for"
                        + " %d s, sent over %d s, bound %d s, seed %d", jobs, badAudio, poison, unsendable,
                bridge ? "via the bridge" : "straight to SQS", ecsWorker ? "with an ECS worker" : "no ECS worker",
                faultPeriod.toMillis(), faultFor.toSeconds(), submitOver.toSeconds(), timeout.toSeconds(), seed);
    }

    /** Defaults: the full run of {@code bench/chaos.sh}. Turning the bridge off also drops the unsendable ones. */
    public static final class Builder {
        private int jobs = 200;
        private int badAudio = 10;
        private int poison = 10;
        private int unsendable = 4;
        private boolean bridge = true;
        private boolean ecsWorker = true;
        private Duration faultPeriod = Duration.ofMillis(3000);
        private Duration submitOver = Duration.ofSeconds(60);
        private Duration faultFor = Duration.ofSeconds(150);
        private Duration timeout = Duration.ofSeconds(480);
        private long seed = 7;

        private Builder() {
        }

        public Builder jobs(int n) {
            jobs = n;
            return this;
        }

        public Builder badAudio(int n) {
            badAudio = n;
            return this;
        }

        public Builder poison(int n) {
            poison = n;
            return this;
        }

        public Builder unsendable(int n) {
            unsendable = n;
            return this;
        }

        public Builder bridge(boolean on) {
            bridge = on;
            return this;
        }

        public Builder ecsWorker(boolean on) {
            ecsWorker = on;
            return this;
        }

        public Builder faultPeriod(Duration d) {
            faultPeriod = d;
            return this;
        }

        public Builder submitOver(Duration d) {
            submitOver = d;
            return this;
        }

        public Builder faultFor(Duration d) {
            faultFor = d;
            return this;
        }

        public Builder timeout(Duration d) {
            timeout = d;
            return this;
        }

        public Builder seed(long s) {
            seed = s;
            return this;
        }

        public ChaosSettings build() {
            return new ChaosSettings(jobs, badAudio, poison, bridge ? unsendable : 0, bridge, ecsWorker, faultPeriod,
                    submitOver, faultFor, timeout, seed);
        }
    }
}
