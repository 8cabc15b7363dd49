package dev.timbre.local;

import java.io.PrintStream;
import java.util.List;
import java.util.Locale;

/**
 * The demo's closing screen: one row per job, then the cosine-similarity matrix of the completed embeddings.
 * Pure formatting; no I/O besides the given stream.
 */
public final class DemoReport {

    /** One job as the report shows it. */
    public record Row(String jobId, String voice, String status, double durationSeconds, long millis,
                      String error) {
    }

    /** One completed embedding, labelled for the matrix. */
    public record Labelled(String label, float[] vector) {
    }

    private DemoReport() {
    }

    public static void printTable(PrintStream out, List<Row> rows) {
        out.printf(Locale.ROOT, "%-36s  %-12s  %-10s  %8s  %8s  %s%n", "job", "voice", "status", "audio_s",
                "time_ms", "error");
        for (Row r : rows) {
            out.printf(Locale.ROOT, "%-36s  %-12s  %-10s  %8.2f  %8d  %s%n", r.jobId(), clip(r.voice(), 12),
                    r.status(), r.durationSeconds(), r.millis(), r.error() == null ? "" : r.error());
        }
    }

    public static void printSimilarity(PrintStream out, List<Labelled> embeddings) {
        if (embeddings.size() < 2) {
            out.println("(fewer than two completed embeddings: no similarity matrix)");
            return;
        }
        int width = 9;
        out.printf(Locale.ROOT, "%-14s", "cosine");
        for (Labelled e : embeddings) {
            out.printf(Locale.ROOT, "%" + width + "s", clip(e.label(), width - 1));
        }
        out.println();
        for (Labelled a : embeddings) {
            out.printf(Locale.ROOT, "%-14s", clip(a.label(), 13));
            for (Labelled b : embeddings) {
                out.printf(Locale.ROOT, "%" + width + ".3f", cosine(a.vector(), b.vector()));
            }
            out.println();
        }
    }

    public static double cosine(float[] a, float[] b) {
        double dot = 0;
        double na = 0;
        double nb = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            na += (double) a[i] * a[i];
            nb += (double) b[i] * b[i];
        }
        return dot / Math.sqrt(na * nb);
    }

    private static String clip(String s, int max) {
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
