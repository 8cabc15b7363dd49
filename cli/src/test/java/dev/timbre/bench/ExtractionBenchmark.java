package dev.timbre.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.audio.AudioLimits;
import dev.timbre.audio.AudioLoader;
import dev.timbre.audio.LoadedAudio;
import dev.timbre.testing.ProcStatus;
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
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;

/**
 * Extraction time of the Java port against PyTorch eager, 1 thread each (not a test; run {@code bench/extract.sh}).
 *
 * <p>Times the compute of {@code extract_se} (spectrogram + reference encoder) on the exact clips that
 * {@code infra/model/bench_reference.py --write-wavs} writes, the same scope the PyTorch reference times (no file
 * I/O, no decoding). It checks the Java embeddings against the reference's before timing, so a fast wrong answer
 * cannot be reported. With {@code --peak-rss-seconds S} it instead embeds one S-second signal and prints the
 * process's peak RSS (run it in a fresh JVM: the peak is per process).
 *
 * <p>It runs the reference itself ({@code /usr/bin/python3 infra/model/bench_reference.py}) as a subprocess,
 * alternating rounds of PyTorch and Java. Options: {@code [--converter DIR] [--rounds 3] [--reps 30] [--warmup 5]
 * [--python /usr/bin/python3] [--reference infra/model/bench_reference.py] [--rss-json FILE]
 * [--docs docs/benchmarks.md] [--command "bench/extract.sh"]}; paths are relative to the repository root.
 */
public final class ExtractionBenchmark {
    static final String BEGIN = "<!-- extract:begin -->";
    static final String END = "<!-- extract:end -->";
    private static final ObjectMapper JSON = new ObjectMapper();

    private ExtractionBenchmark() {
    }

    /** What {@code ./timbre}, the Lambda image and the ECS image export (docs/operations.md, native memory). */
    static final Map<String, String> MALLOC_SETTINGS = Map.of("MALLOC_MMAP_THRESHOLD_", "67108864",
            "MALLOC_TRIM_THRESHOLD_", "268435456", "MALLOC_TOP_PAD_", "67108864");
    /** Goals (docs/benchmarks.md): at least this many times PyTorch's speed, per clip length. */
    private static final Map<Integer, Double> GOALS = Map.of(3, 1.3, 10, 1.3, 30, 1.5);

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = BenchDocs.parse(argv);
        Path converter = Path.of(args.getOrDefault("converter", "infra/model/fixtures/converter"));
        if (args.containsKey("peak-rss-seconds")) {
            peakRss(converter, Integer.parseInt(args.get("peak-rss-seconds")));
            return;
        }
        int reps = Integer.parseInt(args.getOrDefault("reps", "30"));
        int warmup = Integer.parseInt(args.getOrDefault("warmup", "5"));
        int rounds = Integer.parseInt(args.getOrDefault("rounds", "3"));
        List<String> reference = List.of(args.getOrDefault("python", "/usr/bin/python3"),
                args.getOrDefault("reference", "infra/model/bench_reference.py"), "--converter", converter.toString(),
                "--reps", Integer.toString(reps), "--warmup", Integer.toString(warmup));
        Path work = Files.createTempDirectory("timbre-extract-bench");
        String loadBefore = BenchDocs.loadAverage();

        // Rounds alternate PyTorch (a subprocess) and Java (this warm JVM), so load from other jobs on a shared
        // machine falls on both sides alike; each statistic is the median over rounds.
        Map<Integer, List<double[]>> javaRounds = new TreeMap<>();
        Map<Integer, List<JsonNode>> torchRounds = new TreeMap<>();
        Map<Integer, List<JsonNode>> tunedRounds = new TreeMap<>();
        Map<Integer, Double> diffs = new TreeMap<>();
        JsonNode torchFirst = null;
        try (ToneColorExtractor extractor = ToneColorExtractor.load(converter, AudioLimits.DEFAULT)) {
            ToneColorConverter converter1 = extractor.converterForCurrentThread();
            Map<Integer, float[]> clips = new TreeMap<>();
            for (int round = 0; round < rounds; round++) {
                List<String> command = new ArrayList<>(reference);
                if (round == 0) {
                    command.addAll(List.of("--write-wavs", work.resolve("clips").toString(),
                            "--embed-out", work.resolve("torch-embed.json").toString()));
                }
                JsonNode torch = runReference(command, Map.of());
                // the same reference with the malloc settings Timbre's launcher and images use: libtorch's large
                // per-call buffers then stay in the heap instead of being mapped, faulted in and unmapped per call
                JsonNode tuned = runReference(reference, MALLOC_SETTINGS);
                for (JsonNode result : tuned.get("results")) {
                    tunedRounds.computeIfAbsent(result.get("seconds").asInt(), s -> new ArrayList<>()).add(result);
                }
                if (round == 0) {
                    torchFirst = torch;
                    loadClips(extractor, work, clips, diffs);
                }
                for (JsonNode result : torch.get("results")) {
                    torchRounds.computeIfAbsent(result.get("seconds").asInt(), s -> new ArrayList<>()).add(result);
                }
                for (Map.Entry<Integer, float[]> clip : clips.entrySet()) {
                    double[] stats = timeJava(converter1, clip.getValue(), warmup, reps);
                    javaRounds.computeIfAbsent(clip.getKey(), s -> new ArrayList<>()).add(stats);
                    JsonNode t = torchRounds.get(clip.getKey()).get(round);
                    JsonNode u = tunedRounds.get(clip.getKey()).get(round);
                    System.out.printf(Locale.ROOT, "round %d, %2d s: Java median %.1f ms (min %.1f), PyTorch median"
                                    + " %.1f ms (min %.1f), PyTorch with Timbre's malloc settings %.1f ms (min %.1f)%n",
                            round + 1, clip.getKey(), stats[0], stats[1], t.get("median_ms").asDouble(),
                            t.get("min_ms").asDouble(), u.get("median_ms").asDouble(), u.get("min_ms").asDouble());
                }
            }
        } finally {
            deleteTree(work);
        }
        String loadAfter = BenchDocs.loadAverage();

        List<Row> rows = new ArrayList<>();
        for (Map.Entry<Integer, List<double[]>> e : javaRounds.entrySet()) {
            List<double[]> java = e.getValue();
            List<JsonNode> torch = torchRounds.get(e.getKey());
            List<JsonNode> tuned = tunedRounds.get(e.getKey());
            Row row = new Row(e.getKey(), medianOf(java, 0), minOf(java, 1), medianOf(java, 2), medianOf(java, 3),
                    medianOf(java, 4), medianOf(torch, "median_ms"), minOf(torch), medianOf(torch, "p90_ms"),
                    medianOf(torch, "spectrogram_median_ms"), medianOf(torch, "encoder_median_ms"),
                    medianOf(tuned, "median_ms"), minOf(tuned), medianOf(tuned, "spectrogram_median_ms"),
                    medianOf(tuned, "encoder_median_ms"), diffs.get(e.getKey()));
            rows.add(row);
            System.out.printf(Locale.ROOT, "%2d s: Java median %.1f ms (min %.1f), PyTorch median %.1f ms (min %.1f),"
                            + " PyTorch/Java %.2f, with Timbre's malloc settings %.1f ms, %.2f; max abs diff %.2g%n",
                    row.seconds, row.javaMedian, row.javaMin, row.torchMedian, row.torchMin,
                    row.torchMedian / row.javaMedian, row.tunedMedian, row.tunedMedian / row.javaMedian,
                    row.maxAbsDiff);
        }
        JsonNode rss = args.containsKey("rss-json") ? JSON.readTree(Path.of(args.get("rss-json")).toFile()) : null;
        String section = section(rows, torchFirst, rss, reps, warmup, rounds, loadBefore, loadAfter,
                args.getOrDefault("command", "bench/extract.sh"));
        if (args.containsKey("docs")) {
            writeSection(Path.of(args.get("docs")), section);
            System.out.println("wrote " + args.get("docs"));
        } else {
            System.out.println(section);
        }
    }

    /** Reads the reference's clips (exact float32 samples) and checks Java's embeddings against PyTorch's. */
    private static void loadClips(ToneColorExtractor extractor, Path work, Map<Integer, float[]> clips,
                                  Map<Integer, Double> diffs) throws IOException {
        JsonNode torchEmbed = JSON.readTree(work.resolve("torch-embed.json").toFile());
        AudioLoader loader = new AudioLoader(AudioLimits.DEFAULT);
        for (JsonNode clip : torchEmbed.get("clips")) {
            int seconds = clip.get("seconds").asInt();
            Path wav = work.resolve("clips").resolve(clip.get("file").asText());
            LoadedAudio audio = loader.load(Files.readAllBytes(wav), extractor.sampleRate());
            if (audio.samples().length != clip.get("num_samples").asInt()) {
                throw new IllegalStateException(clip.get("file") + ": " + audio.samples().length + " samples");
            }
            double diff = maxAbsDiff(clip.get("embedding"), extractor.embed(audio.samples()));
            if (diff > 1e-4) {
                throw new IllegalStateException(seconds + " s: Java differs from PyTorch by " + diff);
            }
            clips.put(seconds, audio.samples());
            diffs.put(seconds, diff);
        }
    }

    /** @return {median, min, p90, spectrogram median, encoder median} in ms */
    private static double[] timeJava(ToneColorConverter converter, float[] samples, int warmup, int reps) {
        for (int i = 0; i < warmup; i++) {
            converter.embed(samples);
        }
        double[] total = new double[reps];
        double[] spectrogram = new double[reps];
        double[] encoder = new double[reps];
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            ToneColorConverter.Timed timed = converter.embedTimed(samples);
            total[i] = (System.nanoTime() - t0) / 1e6;
            spectrogram[i] = timed.spectrogramNanos() / 1e6;
            encoder[i] = timed.encoderNanos() / 1e6;
        }
        return new double[] {percentile(total, 50), min(total), percentile(total, 90), percentile(spectrogram, 50),
                percentile(encoder, 50)};
    }

    private static JsonNode runReference(List<String> command, Map<String, String> env)
            throws IOException, InterruptedException {
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.INHERIT);
        builder.environment().keySet().removeIf(k -> k.startsWith("MALLOC_"));
        builder.environment().putAll(env);
        Process process = builder.start();
        byte[] out = process.getInputStream().readAllBytes();
        int status = process.waitFor();
        if (status != 0) {
            throw new IllegalStateException(String.join(" ", command) + " exited with " + status);
        }
        return JSON.readTree(out);
    }

    private static double medianOf(List<double[]> rounds, int index) {
        return percentile(rounds.stream().mapToDouble(r -> r[index]).toArray(), 50);
    }

    private static double minOf(List<double[]> rounds, int index) {
        return rounds.stream().mapToDouble(r -> r[index]).min().orElseThrow();
    }

    private static double minOf(List<JsonNode> rounds) {
        return rounds.stream().mapToDouble(t -> t.get("min_ms").asDouble()).min().orElseThrow();
    }

    private static double medianOf(List<JsonNode> rounds, String field) {
        return percentile(rounds.stream().mapToDouble(r -> r.get(field).asDouble()).toArray(), 50);
    }

    private static void deleteTree(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        }
    }

    record Row(int seconds, double javaMedian, double javaMin, double javaP90, double javaSpectrogram,
               double javaEncoder, double torchMedian, double torchMin, double torchP90, double torchSpectrogram,
               double torchEncoder, double tunedMedian, double tunedMin, double tunedSpectrogram,
               double tunedEncoder, double maxAbsDiff) {
        /** The faster PyTorch: with or without Timbre's malloc settings (goals are set against this one). */
        double bestTorchMedian() {
            return Math.min(torchMedian, tunedMedian);
        }
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
            long rssBefore = ProcStatus.kib("VmRSS");
            long hwmBefore = ProcStatus.kib("VmHWM");
            long t0 = System.nanoTime();
            extractor.embed(y);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            System.out.printf(Locale.ROOT, "{\"seconds\": %d, \"ms\": %d, \"rss_before_kib\": %d, "
                            + "\"hwm_before_kib\": %d, \"hwm_after_kib\": %d, \"xmx_mib\": %d}%n", seconds, ms,
                    rssBefore, hwmBefore, ProcStatus.kib("VmHWM"), Runtime.getRuntime().maxMemory() >> 20);
        }
    }

    private static String section(List<Row> rows, JsonNode torch, JsonNode rss, int reps, int warmup, int rounds,
                                  String loadBefore, String loadAfter, String command) throws IOException {
        StringBuilder s = new StringBuilder();
        s.append(BEGIN).append('\n');
        s.append("## Tone-color extraction: Java (DJL 0.36, libtorch 2.7.1) vs PyTorch eager\n\n");
        s.append("Compute of OpenVoice `extract_se` per clip (spectrogram + reference encoder; no file I/O, no ")
                .append("decoding), 1 intra-op and 1 inter-op thread on both sides, same clips and same seeded ")
                .append("converter (`infra/model/fixtures/converter`), same run. Java checks its embeddings ")
                .append("against PyTorch's before timing. ").append(rounds).append(" rounds alternating PyTorch ")
                .append("and Java, each ").append(reps).append(" timed calls after ").append(warmup)
                .append(" warm-ups per clip; medians and p90 are medians over rounds, min is the lowest call; ms.\n\n");
        s.append("| clip | Java median | Java min | Java p90 | PyTorch median | PyTorch min | PyTorch p90 | ")
                .append("PyTorch ÷ Java (median) | PyTorch, Timbre's malloc settings: median | min | ÷ Java (median) ")
                .append("| Java: spectrogram / encoder | PyTorch: spectrogram / encoder | PyTorch, malloc settings: ")
                .append("spectrogram / encoder | max abs diff |\n");
        s.append("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
        for (Row r : rows) {
            s.append(String.format(Locale.ROOT,
                    "| %d s | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f | **%.2f** | %.1f | %.1f | **%.2f** "
                            + "| %.1f / %.1f | %.1f / %.1f | %.1f / %.1f | %.1e |%n",
                    r.seconds, r.javaMedian, r.javaMin, r.javaP90, r.torchMedian, r.torchMin, r.torchP90,
                    r.torchMedian / r.javaMedian, r.tunedMedian, r.tunedMin, r.tunedMedian / r.javaMedian,
                    r.javaSpectrogram, r.javaEncoder, r.torchSpectrogram, r.torchEncoder, r.tunedSpectrogram,
                    r.tunedEncoder, r.maxAbsDiff));
        }
        s.append("\nPyTorch runs twice per round: as a user runs it, and with the glibc malloc settings Timbre's "
                + "launcher and images export (`MALLOC_MMAP_THRESHOLD_=67108864 MALLOC_TRIM_THRESHOLD_=268435456 MALLOC_TOP_PAD_=67108864`). "
                + "Without them glibc maps each of libtorch's large per-call buffers afresh and unmaps it on free, so "
                + "every call pays page faults for its activations; newer torch releases suffer from it most. The "
                + "goals are set against the faster of the two. Java runs with the settings, as `./timbre` and the "
                + "images run it.\n");
        for (Row r : rows) {
            double ratio = r.bestTorchMedian() / r.javaMedian;
            double goal = GOALS.getOrDefault(r.seconds, 1.3);
            s.append(BenchDocs.goalLine("Java extraction vs PyTorch eager (the faster of default and Timbre's "
                            + "malloc settings), " + r.seconds + " s clip, 1 thread (median)",
                    BenchDocs.f("%.2f× (%.1f vs %.1f ms)", ratio, r.javaMedian, r.bestTorchMedian()),
                    BenchDocs.f("≥ %.1f×", goal), ratio >= goal, ratio >= goal ? ""
                            : "see the encoder and spectrogram columns; both sides run oneDNN convolutions"));
        }
        s.append('\n');
        Row longest = rows.get(rows.size() - 1);
        s.append(String.format(Locale.ROOT, "Where the time goes (medians, %d s clip): Java %.1f ms spectrogram "
                        + "(%.0f%%) + %.1f ms encoder; PyTorch %.1f ms spectrogram (%.0f%%) + %.1f ms encoder. "
                        + "The encoder is almost all convolution: the GRU (its recurrence in Java) and the "
                        + "projection take about 0.5 ms at 10 s. Java folds the weight norm `g·v/‖v‖` into the conv weights once at load; "
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
                            + "of audio), bit-identical to one whole-file pass. One whole-file pass, as "
                            + "OpenVoice runs it, peaked at 3.9 GiB RSS for 600 s in a development measurement "
                            + "(the first conv's output alone is 32 × 25,840 × 257 floats = 0.85 GB).\n\n",
                    rss.get("seconds").asInt(), rss.get("ms").asDouble() / 1000,
                    rss.get("hwm_before_kib").asLong() >> 10,
                    rss.get("hwm_after_kib").asLong() >> 10, rss.get("xmx_mib").asLong()));
        }
        s.append("- Machine: ").append(BenchmarkReport.cpuModel()).append(", nproc ").append(Runtime.getRuntime().availableProcessors())
                .append(", shared with other jobs; load average ").append(loadBefore).append(" before, ")
                .append(loadAfter).append(" after. Timings on a shared box are noisy; min approximates quiet.\n");
        s.append("- Java ").append(System.getProperty("java.version")).append(", PyTorch reference: torch ")
                .append(torch.get("torch_version").asText()).append(" (`").append(torch.path("python").asText("python3")).append("`), ")
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

    private static String required(Map<String, String> args, String name) {
        String v = args.get(name);
        if (v == null) {
            throw new IllegalArgumentException("missing --" + name);
        }
        return v;
    }
}
