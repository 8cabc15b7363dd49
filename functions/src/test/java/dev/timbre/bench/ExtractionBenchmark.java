package dev.timbre.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.audio.AudioLimits;
import dev.timbre.audio.AudioLoader;
import dev.timbre.audio.LoadedAudio;
import dev.timbre.tone.ToneColorConverter;
import dev.timbre.tone.ToneColorExtractor;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Extraction time of the Java port against PyTorch eager, 1 thread each (not a test; run {@code bench/extract.sh}).
 *
 * <p>Times the compute of {@code extract_se} (spectrogram + reference encoder) on the exact clips that
 * {@code infra/model/bench_reference.py --write-wavs} writes, the same scope the PyTorch reference times (no file
 * I/O, no decoding). It checks the Java embeddings against the reference's before timing, so a fast wrong answer
 * cannot be reported. With {@code --peak-rss-seconds S} it instead embeds one S-second signal and prints the
 * process's peak RSS (run it in a fresh JVM: the peak is per process).
 *
 * <p>Options: {@code --converter DIR --clips DIR --torch-json FILE --torch-embed FILE [--rss-json FILE]
 * [--reps 30] [--warmup 5] [--docs docs/benchmarks.md] [--command "bench/extract.sh"]}.
 */
public final class ExtractionBenchmark {
    static final String BEGIN = "<!-- extract:begin -->";
    static final String END = "<!-- extract:end -->";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ExtractionBenchmark() {
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = parse(argv);
        Path converter = Path.of(args.getOrDefault("converter", "infra/model/fixtures/converter"));
        if (args.containsKey("peak-rss-seconds")) {
            peakRss(converter, Integer.parseInt(args.get("peak-rss-seconds")));
            return;
        }
        int reps = Integer.parseInt(args.getOrDefault("reps", "30"));
        int warmup = Integer.parseInt(args.getOrDefault("warmup", "5"));
        Path clips = Path.of(required(args, "clips"));
        JsonNode torch = JSON.readTree(Path.of(required(args, "torch-json")).toFile());
        JsonNode torchEmbed = JSON.readTree(Path.of(required(args, "torch-embed")).toFile());
        String loadBefore = loadAverage();

        List<Row> rows = new ArrayList<>();
        try (ToneColorExtractor extractor = ToneColorExtractor.load(converter, AudioLimits.DEFAULT)) {
            AudioLoader loader = new AudioLoader(AudioLimits.DEFAULT);
            ToneColorConverter converter1 = extractor.converterForCurrentThread();
            for (JsonNode clip : torchEmbed.get("clips")) {
                int seconds = clip.get("seconds").asInt();
                LoadedAudio audio = loader.load(Files.readAllBytes(clips.resolve(clip.get("file").asText())),
                        extractor.sampleRate());
                if (audio.samples().length != clip.get("num_samples").asInt()) {
                    throw new IllegalStateException(clip.get("file") + ": " + audio.samples().length + " samples");
                }
                double diff = maxAbsDiff(clip.get("embedding"), converter1.embed(audio.samples()));
                if (diff > 1e-4) {
                    throw new IllegalStateException(seconds + " s: Java differs from PyTorch by " + diff);
                }
                for (int i = 0; i < warmup; i++) {
                    converter1.embed(audio.samples());
                }
                double[] total = new double[reps];
                double[] spectrogram = new double[reps];
                double[] encoder = new double[reps];
                for (int i = 0; i < reps; i++) {
                    long t0 = System.nanoTime();
                    ToneColorConverter.Timed timed = converter1.embedTimed(audio.samples());
                    total[i] = (System.nanoTime() - t0) / 1e6;
                    spectrogram[i] = timed.spectrogramNanos() / 1e6;
                    encoder[i] = timed.encoderNanos() / 1e6;
                }
                JsonNode reference = torchResult(torch, seconds);
                Row row = new Row(seconds, percentile(total, 50), min(total), percentile(total, 90),
                        percentile(spectrogram, 50), percentile(encoder, 50),
                        reference.get("median_ms").asDouble(), reference.get("min_ms").asDouble(),
                        reference.get("p90_ms").asDouble(), reference.get("spectrogram_median_ms").asDouble(),
                        reference.get("encoder_median_ms").asDouble(), diff);
                rows.add(row);
                System.out.printf(Locale.ROOT, "%2d s: Java median %.1f ms (min %.1f), PyTorch median %.1f ms"
                        + " (min %.1f), ratio %.2f, max abs diff %.2g%n", seconds, row.javaMedian, row.javaMin,
                        row.torchMedian, row.torchMin, row.torchMedian / row.javaMedian, diff);
            }
        }
        String loadAfter = loadAverage();
        JsonNode rss = args.containsKey("rss-json") ? JSON.readTree(Path.of(args.get("rss-json")).toFile()) : null;
        String section = section(rows, torch, rss, reps, warmup, loadBefore, loadAfter,
                args.getOrDefault("command", "bench/extract.sh"));
        if (args.containsKey("docs")) {
            writeSection(Path.of(args.get("docs")), section);
            System.out.println("wrote " + args.get("docs"));
        } else {
            System.out.println(section);
        }
    }

    record Row(int seconds, double javaMedian, double javaMin, double javaP90, double javaSpectrogram,
               double javaEncoder, double torchMedian, double torchMin, double torchP90, double torchSpectrogram,
               double torchEncoder, double maxAbsDiff) {
    }

    /** One long signal in this JVM; prints JSON with the time and the process's RSS before and at peak. */
    private static void peakRss(Path converter, int seconds) throws IOException {
        try (ToneColorExtractor extractor = ToneColorExtractor.load(converter, AudioLimits.DEFAULT)) {
            Random random = new Random(seconds);
            float[] warm = new float[extractor.sampleRate()];
            for (int i = 0; i < warm.length; i++) {
                warm[i] = (float) (0.1 * random.nextGaussian());
            }
            extractor.embed(warm);
            float[] y = new float[seconds * extractor.sampleRate()];
            for (int i = 0; i < y.length; i++) {
                y[i] = (float) (0.3 * Math.sin(i * 0.0627 + Math.sin(i * 1e-4)) + 0.05 * random.nextGaussian());
            }
            long rssBefore = statusKib("VmRSS");
            long hwmBefore = statusKib("VmHWM");
            long t0 = System.nanoTime();
            extractor.embed(y);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf(Locale.ROOT, "{\"seconds\": %d, \"ms\": %d, \"rss_before_kib\": %d, "
                            + "\"hwm_before_kib\": %d, \"hwm_after_kib\": %d, \"xmx_mib\": %d}%n", seconds, ms,
                    rssBefore, hwmBefore, statusKib("VmHWM"), Runtime.getRuntime().maxMemory() >> 20);
        }
    }

    private static String section(List<Row> rows, JsonNode torch, JsonNode rss, int reps, int warmup,
                                  String loadBefore, String loadAfter, String command) throws IOException {
        StringBuilder s = new StringBuilder();
        s.append(BEGIN).append('\n');
        s.append("## Tone-color extraction: Java (DJL 0.36, libtorch 2.7.1) vs PyTorch eager\n\n");
        s.append("Compute of OpenVoice `extract_se` per clip (spectrogram + reference encoder; no file I/O, no ")
                .append("decoding), 1 intra-op and 1 inter-op thread on both sides, same clips and same seeded ")
                .append("converter (`infra/model/fixtures/converter`), same run. Java checks its embeddings ")
                .append("against PyTorch's before timing. ").append(reps).append(" timed calls after ")
                .append(warmup).append(" warm-ups per clip; ms.\n\n");
        s.append("| clip | Java median | Java min | Java p90 | PyTorch median | PyTorch min | PyTorch p90 | ")
                .append("PyTorch ÷ Java (median) | Java: spectrogram / encoder | PyTorch: spectrogram / encoder |")
                .append(" max abs diff |\n");
        s.append("|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            s.append(String.format(Locale.ROOT,
                    "| %d s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | **%.2f** | %.1f / %.1f | %.1f / %.1f | %.1e |%n",
                    r.seconds, r.javaMedian, r.javaMin, r.javaP90, r.torchMedian, r.torchMin, r.torchP90,
                    r.torchMedian / r.javaMedian, r.javaSpectrogram, r.javaEncoder, r.torchSpectrogram,
                    r.torchEncoder, r.maxAbsDiff));
        }
        s.append('\n');
        Row longest = rows.get(rows.size() - 1);
        s.append(String.format(Locale.ROOT, "Where the time goes (medians, %d s clip): Java %.1f ms spectrogram "
                        + "(%.0f%%) + %.1f ms encoder; PyTorch %.1f ms spectrogram (%.0f%%) + %.1f ms encoder. "
                        + "The encoder is almost all convolution: the GRU and projection take about 1 ms "
                        + "at 10 s. Java folds the weight norm `g·v/‖v‖` into the conv weights once at load; "
                        + "OpenVoice's eager model (and this reference) recomputes it on every call. Java's "
                        + "magnitude takes re²+im² from two strided views of `view_as_real`, because libtorch's "
                        + "`sum` over that size-2 axis is about 4× slower.%n%n",
                longest.seconds, longest.javaSpectrogram,
                100 * longest.javaSpectrogram / (longest.javaSpectrogram + longest.javaEncoder), longest.javaEncoder,
                longest.torchSpectrogram,
                100 * longest.torchSpectrogram / (longest.torchSpectrogram + longest.torchEncoder),
                longest.torchEncoder));
        if (rss != null) {
            s.append(String.format(Locale.ROOT, "Long input: a %d s signal takes %.1f s; the process's peak RSS "
                            + "goes from %d MiB (engine and weights loaded, warm) to %d MiB (`-Xmx%dm`). The "
                            + "spectrogram and conv stack run over time blocks of 16 final conv rows (≈12 s "
                            + "of audio), bit-identical to one whole-file pass. With one whole-file pass, as "
                            + "OpenVoice runs it, 600 s peaked at 4.1 GB RSS in development measurements "
                            + "(the second conv's im2col buffer alone is about 1.9 GB).\n\n",
                    rss.get("seconds").asInt(), rss.get("ms").asDouble() / 1000, rss.get("hwm_before_kib").asLong() >> 10,
                    rss.get("hwm_after_kib").asLong() >> 10, rss.get("xmx_mib").asLong()));
        }
        s.append("- Machine: ").append(cpuModel()).append(", nproc ").append(Runtime.getRuntime().availableProcessors())
                .append(", shared with other jobs; load average ").append(loadBefore).append(" before, ")
                .append(loadAfter).append(" after. Timings on a shared box are noisy; min approximates quiet.\n");
        s.append("- Java ").append(System.getProperty("java.version")).append(", PyTorch reference: torch ")
                .append(torch.get("torch_version").asText()).append(" (Debian `python3-torch`), ")
                .append(torch.get("threads").asInt()).append(" thread.\n");
        s.append("- Date: ").append(ZonedDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_INSTANT
                .withZone(ZoneOffset.UTC)).replaceAll("\\.\\d+Z$", "Z")).append('\n');
        s.append("- Command: `").append(command).append("`\n");
        s.append(END).append('\n');
        return s.toString();
    }

    /** Replaces the text between the extract markers, or appends the section; other sections are kept. */
    static void writeSection(Path docs, String section) throws IOException {
        String text = Files.exists(docs) ? Files.readString(docs, StandardCharsets.UTF_8) : "";
        int begin = text.indexOf(BEGIN);
        int end = text.indexOf(END);
        String updated;
        if (begin >= 0 && end > begin) {
            int after = end + END.length();
            if (after < text.length() && text.charAt(after) == '\n') {
                after++;
            }
            updated = text.substring(0, begin) + section + text.substring(after);
        } else {
            updated = text.isEmpty() ? section : text + (text.endsWith("\n\n") ? "" : "\n") + section;
        }
        if (docs.getParent() != null) {
            Files.createDirectories(docs.getParent());
        }
        Files.writeString(docs, updated, StandardCharsets.UTF_8);
    }

    private static JsonNode torchResult(JsonNode torch, int seconds) {
        for (JsonNode r : torch.get("results")) {
            if (r.get("seconds").asInt() == seconds) {
                return r;
            }
        }
        throw new IllegalStateException("PyTorch reference has no " + seconds + " s result");
    }

    private static double maxAbsDiff(JsonNode expected, float[] actual) {
        double max = 0;
        for (int i = 0; i < actual.length; i++) {
            max = Math.max(max, Math.abs(expected.get(i).asDouble() - actual[i]));
        }
        return max;
    }

    static double percentile(double[] values, double p) {
        double[] sorted = values.clone();
        Arrays.sort(sorted);
        double rank = p / 100 * (sorted.length - 1); // linear interpolation, as numpy.percentile
        int lo = (int) Math.floor(rank);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (rank - lo) * (sorted[hi] - sorted[lo]);
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElseThrow();
    }

    private static String cpuModel() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("model name")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return "unknown CPU";
    }

    private static String loadAverage() throws IOException {
        String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
        return f[0] + " " + f[1] + " " + f[2];
    }

    private static long statusKib(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key + ":")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        throw new IllegalStateException(key + " not in /proc/self/status");
    }

    private static Map<String, String> parse(String[] argv) {
        Map<String, String> args = new HashMap<>();
        for (int i = 0; i < argv.length; i++) {
            if (!argv[i].startsWith("--") || i + 1 >= argv.length) {
                throw new IllegalArgumentException("expected --name value pairs, got " + Arrays.toString(argv));
            }
            args.put(argv[i].substring(2), argv[++i]);
        }
        return args;
    }

    private static String required(Map<String, String> args, String name) {
        String v = args.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return v;
    }
}
