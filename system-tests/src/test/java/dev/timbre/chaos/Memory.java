package dev.timbre.chaos;

import dev.timbre.testing.ProcStatus;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** Heap used and RSS over time; slope by least squares, in MiB per minute. */
final class Memory {
    final List<double[]> heap = new ArrayList<>();
    final List<double[]> rss = new ArrayList<>();
    private final long t0 = System.nanoTime();
    private long last;

    void sample() {
        long now = System.nanoTime();
        if (now - last < 1_000_000_000L) {
            return;
        }
        last = now;
        double minutes = (now - t0) / 60e9;
        heap.add(new double[] {minutes, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576.0});
        try {
            rss.add(new double[] {minutes, ProcStatus.residentBytes() / 1048576.0});
        } catch (IOException ignored) {
            // no /proc: no RSS figure
        }
    }

    /**
     * The lowest heap use in each 10 s: the level the collector brings the heap back to. Its trend is what a
     * leak raises; the raw samples mostly show where the sawtooth between collections happened to be.
     */
    List<double[]> floors(List<double[]> points) {
        Map<Long, double[]> lowest = new LinkedHashMap<>();
        for (double[] p : points) {
            lowest.merge((long) (p[0] * 6), p, (a, b) -> b[1] < a[1] ? b : a);
        }
        return new ArrayList<>(lowest.values());
    }

    double slope(List<double[]> points) {
        int n = points.size();
        if (n < 3) {
            return 0;
        }
        double sx = 0, sy = 0, sxx = 0, sxy = 0;
        for (double[] p : points) {
            sx += p[0];
            sy += p[1];
            sxx += p[0] * p[0];
            sxy += p[0] * p[1];
        }
        double d = n * sxx - sx * sx;
        return d == 0 ? 0 : (n * sxy - sx * sy) / d;
    }

    long max(List<double[]> points) {
        return (long) points.stream().mapToDouble(p -> p[1]).max().orElse(0);
    }
}
