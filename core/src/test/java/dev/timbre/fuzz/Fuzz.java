package dev.timbre.fuzz;

import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;

import java.time.Duration;
import java.util.Arrays;
import java.util.Locale;
import java.util.Random;

/**
 * A small property runner for generated inputs: {@code tries} inputs per property, each from its own seed so a
 * failure names the one seed that replays it. Plain JUnit Jupiter, no extra engine.
 *
 * <ul>
 *   <li>{@code -Dtimbre.fuzz.tries=N} runs N inputs per property instead of the default (CI runs the default,
 *       a few seconds per property; a long run is e.g. {@code -Dtimbre.fuzz.tries=100000}).</li>
 *   <li>{@code -Dtimbre.fuzz.seed=S} changes the base seed (default fixed, so CI is reproducible).</li>
 *   <li>{@code -Dtimbre.fuzz.replay=S} runs only the input of seed S (as printed by a failure).</li>
 * </ul>
 *
 * Every property runs under a preemptive time bound ({@code perTry × tries}, at least 30 s) so a hang fails the
 * test instead of the build, and each input is also checked against {@code perTry} on its own.
 */
final class Fuzz {
    static final long BASE_SEED = Long.getLong("timbre.fuzz.seed", 20261129L);

    /** One property over generated inputs; throws an {@link AssertionError} on a counterexample. */
    interface Property {
        void check(Random random) throws Exception;
    }

    private Fuzz() {
    }

    static int tries(int defaultTries) {
        return Integer.getInteger("timbre.fuzz.tries", defaultTries);
    }

    /**
     * Runs {@code property} on {@link #tries(int)} seeds and prints a one-line summary.
     *
     * @param perTry bound for one input (a slower input fails the property)
     */
    static void forAll(String name, int defaultTries, Duration perTry, Property property) {
        String replay = System.getProperty("timbre.fuzz.replay");
        long[] seeds = replay != null ? new long[] {Long.parseLong(replay)} : seeds(tries(defaultTries));
        Duration bound = perTry.multipliedBy(seeds.length).compareTo(Duration.ofSeconds(30)) < 0
                ? Duration.ofSeconds(30) : perTry.multipliedBy(seeds.length);
        long[] slowest = new long[1];
        long start = System.nanoTime();
        assertTimeoutPreemptively(bound, () -> {
            for (long seed : seeds) {
                long t0 = System.nanoTime();
                try {
                    property.check(new Random(seed));
                } catch (Throwable failure) {
                    throw new AssertionError(name + ": counterexample at seed " + seed
                            + " (replay with -Dtimbre.fuzz.replay=" + seed + "): " + failure, failure);
                }
                long nanos = System.nanoTime() - t0;
                slowest[0] = Math.max(slowest[0], nanos);
                if (nanos > perTry.toNanos()) {
                    throw new AssertionError(name + ": seed " + seed + " took " + nanos / 1_000_000
                            + " ms, over the bound of " + perTry.toMillis() + " ms (replay with -Dtimbre.fuzz.replay="
                            + seed + ")");
                }
            }
        }, name + " did not finish " + seeds.length + " inputs within " + bound);
        System.out.printf(Locale.ROOT, "fuzz %-40s %7d inputs in %6.2f s, slowest %7.1f ms%n", name, seeds.length,
                (System.nanoTime() - start) / 1e9, slowest[0] / 1e6);
    }

    private static long[] seeds(int count) {
        long[] seeds = new long[count];
        Random base = new Random(BASE_SEED);
        for (int i = 0; i < count; i++) {
            seeds[i] = base.nextLong();
        }
        return seeds;
    }

    // ------------------------------------------------------------------------------------------- generators

    private static final long[] INTERESTING = {0, 1, 2, 7, 8, 16, 127, 128, 255, 256, 0x7FFF, 0x8000, 0xFFFF,
        0x10000, 0x7FFFFFFFL, 0x80000000L, 0xFFFFFFFFL};

    static long interesting(Random r) {
        return INTERESTING[r.nextInt(INTERESTING.length)];
    }

    /** Either an interesting value or one of {@code usual}. */
    static long pick(Random r, long... usual) {
        return r.nextInt(3) == 0 ? interesting(r) : usual[r.nextInt(usual.length)];
    }

    static byte[] randomBytes(Random r, int maxLength) {
        byte[] b = new byte[r.nextInt(maxLength + 1)];
        r.nextBytes(b);
        return b;
    }

    /** 1..8 mutations of a copy: bit flips, interesting values, truncation, duplication, deletion, insertion. */
    static byte[] mutate(byte[] original, Random r, int hotRegion) {
        byte[] data = original.clone();
        int operations = 1 + r.nextInt(8);
        for (int op = 0; op < operations && data.length > 0; op++) {
            int at = r.nextBoolean() ? r.nextInt(Math.min(data.length, hotRegion)) : r.nextInt(data.length);
            switch (r.nextInt(7)) {
                case 0 -> data[at] ^= (byte) (1 << r.nextInt(8));
                case 1 -> data[at] = (byte) interesting(r);
                case 2 -> { // a 16- or 32-bit interesting value, either byte order
                    long v = interesting(r);
                    int width = r.nextBoolean() ? 2 : 4;
                    boolean little = r.nextBoolean();
                    for (int i = 0; i < width && at + i < data.length; i++) {
                        int shift = 8 * (little ? i : width - 1 - i);
                        data[at + i] = (byte) (v >>> shift);
                    }
                }
                case 3 -> data = Arrays.copyOf(data, at);
                case 4 -> { // duplicate a region
                    int length = Math.min(data.length - at, 1 + r.nextInt(1024));
                    byte[] grown = new byte[data.length + length];
                    System.arraycopy(data, 0, grown, 0, at + length);
                    System.arraycopy(data, at, grown, at + length, data.length - at);
                    data = grown;
                }
                case 5 -> { // delete a region
                    int length = Math.min(data.length - at, 1 + r.nextInt(256));
                    byte[] shrunk = new byte[data.length - length];
                    System.arraycopy(data, 0, shrunk, 0, at);
                    System.arraycopy(data, at + length, shrunk, at, data.length - at - length);
                    data = shrunk;
                }
                default -> { // insert random bytes
                    byte[] insert = randomBytes(r, 64);
                    byte[] grown = new byte[data.length + insert.length];
                    System.arraycopy(data, 0, grown, 0, at);
                    System.arraycopy(insert, 0, grown, at, insert.length);
                    System.arraycopy(data, at, grown, at + insert.length, data.length - at);
                    data = grown;
                }
            }
        }
        return data;
    }

    /** The message of an expected exception is one non-empty line of reasonable length. */
    static void assertOneLine(String what, String message, int maxChars) {
        if (message == null || message.isBlank()) {
            throw new AssertionError(what + ": empty message");
        }
        if (message.indexOf('\n') >= 0 || message.indexOf('\r') >= 0) {
            throw new AssertionError(what + ": message is not one line: " + message);
        }
        if (message.length() > maxChars) {
            throw new AssertionError(what + ": message of " + message.length() + " chars: "
                    + message.substring(0, 200) + "…");
        }
    }
}
