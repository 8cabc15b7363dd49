package dev.timbre.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;

/**
 * Helpers the benchmark mains share: a section of {@code docs/benchmarks.md} between its own markers, the load
 * average, this process's memory from {@code /proc}, {@code --name value} arguments.
 *
 * <p>Goal lines: a section states each goal it measures as one HTML comment line,
 * {@code <!-- goal | what | measured | target | met | where the time goes -->} ({@link #goalLine}), which
 * {@link BenchmarkReport} collects into the goals table. Not thread-safe; used from one main thread.
 */
final class BenchDocs {
    private BenchDocs() {
    }

    static String begin(String name) {
        return "<!-- " + name + ":begin -->";
    }

    static String end(String name) {
        return "<!-- " + name + ":end -->";
    }

    /**
     * Replaces the text between {@code <!-- name:begin -->} and {@code <!-- name:end -->} (markers included) with
     * {@code section}, which must carry both markers. A missing section goes at the top ({@code atTop}) or the end.
     */
    static void writeSection(Path docs, String name, String section, boolean atTop) throws IOException {
        if (!section.startsWith(begin(name)) || !section.stripTrailing().endsWith(end(name))) {
            throw new IllegalArgumentException("section " + name + " must start and end with its markers");
        }
        String body = section.endsWith("\n") ? section : section + "\n";
        String text = Files.exists(docs) ? Files.readString(docs, StandardCharsets.UTF_8) : "";
        int b = text.indexOf(begin(name));
        int e = text.indexOf(end(name));
        String updated;
        if (b >= 0 && e > b) {
            int after = e + end(name).length();
            if (after < text.length() && text.charAt(after) == '\n') {
                after++;
            }
            updated = text.substring(0, b) + body + text.substring(after);
        } else if (atTop) {
            updated = body + (text.isEmpty() ? "" : "\n" + text);
        } else {
            updated = text.isEmpty() ? body : text + (text.endsWith("\n\n") ? "" : text.endsWith("\n") ? "\n" : "\n\n")
                    + body;
        }
        if (docs.getParent() != null) {
            Files.createDirectories(docs.getParent());
        }
        Files.writeString(docs, updated, StandardCharsets.UTF_8);
    }

    /** The text between the markers of section {@code name}, or null if the document has no such section. */
    static String section(String docs, String name) {
        int b = docs.indexOf(begin(name));
        int e = docs.indexOf(end(name));
        return b >= 0 && e > b ? docs.substring(b + begin(name).length(), e) : null;
    }

    /** One machine-readable goal line (see the class comment); '|' in the fields is replaced. */
    static String goalLine(String what, String measured, String target, boolean met, String why) {
        return "<!-- goal | " + clean(what) + " | " + clean(measured) + " | " + clean(target) + " | "
                + (met ? "met" : "not met") + " | " + clean(why) + " -->\n";
    }

    private static String clean(String s) {
        return s.replace('|', '/').replace("-->", "->").replace('\n', ' ');
    }

    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
            return f[0] + " " + f[1] + " " + f[2];
        } catch (IOException e) {
            return "unknown";
        }
    }

    /** The 1-minute load average, or NaN. */
    static double load1() {
        try {
            return Double.parseDouble(loadAverage().split(" ")[0]);
        } catch (NumberFormatException e) {
            return Double.NaN;
        }
    }

    static Map<String, String> parse(String[] argv) {
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i < argv.length; i++) {
            if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
                throw new IllegalArgumentException("expected --name value pairs, got " + Arrays.toString(argv));
            }
            args.put(argv[i].substring(2), argv[++i]);
        }
        return args;
    }

    static String f(String format, Object... values) {
        return String.format(Locale.ROOT, format, values);
    }
}
