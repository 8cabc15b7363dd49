package dev.timbre.local;

import java.io.PrintStream;
import java.util.Locale;

/**
 * Live progress of the demo: a self-rewriting line on a terminal, plain lines (at most one every few seconds)
 * when stdout is not a TTY, so logs and CI output stay readable.
 */
public final class Progress {

    private final PrintStream out;
    private final boolean terminal;
    private final int total;
    private final long startNanos;
    private long lastPlainLine;
    private String lastText = "";

    /** @param startNanos {@link System#nanoTime()} when the first job was submitted */
    public Progress(PrintStream out, boolean terminal, int total, long startNanos) {
        this.out = out;
        this.startNanos = startNanos;
        this.terminal = terminal;
        this.total = total;
    }

    public void update(int completed, int failed) {
        double elapsed = (System.nanoTime() - startNanos) / 1e9;
        int done = completed + failed;
        double rate = elapsed > 0 ? done / elapsed : 0;
        String eta = rate > 0 && done < total ? String.format(Locale.ROOT, "%.0fs", (total - done) / rate) : "-";
        String text = String.format(Locale.ROOT, "jobs %d/%d done (%d completed, %d failed)  %.2f jobs/s  ETA %s",
                done, total, completed, failed, rate, eta);
        if (terminal) {
            out.print("\r" + text + "   ");
            out.flush();
        } else if (!text.equals(lastText) && (System.nanoTime() - lastPlainLine > 3_000_000_000L || done == total)) {
            out.println(text);
            lastPlainLine = System.nanoTime();
        }
        lastText = text;
    }

    public void finish() {
        if (terminal) {
            out.println();
        }
    }

    public double elapsedSeconds() {
        return (System.nanoTime() - startNanos) / 1e9;
    }
}
