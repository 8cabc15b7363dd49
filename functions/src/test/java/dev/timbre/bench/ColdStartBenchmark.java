package dev.timbre.bench;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Cold start (issue 8, item 5; issue 6, item 5), not a test; run {@code bench/coldstart.sh}. Starts fresh JVMs of
 * {@link ColdStart}, each measuring process start → handler ready → first embedding, split into JVM, logging,
 * configuration, connection pool, AWS clients, engine and weights. Three layouts, interleaved per round: the
 * launcher's classpath (classes directory + {@code lib/*}), the same classes as a jar, and that jar with an AppCDS
 * archive dumped by one earlier run ({@code -XX:ArchiveClassesAtExit}, then {@code -XX:SharedArchiveFile}). JDK 17
 * refuses to dump with a non-empty directory on the classpath, which is why the archive needs the jar layout.
 *
 * <p>Options: {@code --dir-cp CP --jar-cp CP --archive FILE --cache DIR --wav FILE [--rounds 3] [--docs FILE]
 * [--command TEXT] [--jvm-options "..."]}.
 */
public final class ColdStartBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String[] PHASES = {"jvm_ms", "logging_ms", "config_ms", "db_ms", "clients_ms", "engine_ms",
            "weights_ms", "ready_ms", "embed_ms", "first_ms"};
    static final String[] LABELS = {"JVM start → main", "logging (logback)", "configuration", "connection pool"
            + " (first connection)", "S3 + SQS clients", "PyTorch engine (natives pre-extracted)", "weights"
            + " (checkpoint read, weight norm folded)", "**process start → handler ready**", "first embedding"
            + " (decode + resample + extract, 3 s WAV)", "**process start → first embedding**"};

    static final String LAUNCHER = "launcher classpath (classes dir + lib/*)";
    static final String CDS = "jar + lib/* + AppCDS archive";
    static final String SEQUENTIAL = "launcher classpath, one part after the other";
    static final String SEQUENTIAL_CDS = "AppCDS, one part after the other";

    private ColdStartBenchmark() {
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = BenchDocs.parse(argv);
        int rounds = Integer.parseInt(args.getOrDefault("rounds", "3"));
        Path archive = Path.of(args.get("archive"));
        List<String> jvm = List.of(args.getOrDefault("jvm-options", "").trim().split("\\s+"));
        String loadBefore = BenchDocs.loadAverage();
        Files.deleteIfExists(archive);

        Map<String, List<String>> layouts = new LinkedHashMap<>();
        layouts.put(LAUNCHER, List.of("-cp", args.get("dir-cp")));
        layouts.put("jar + lib/*", List.of("-cp", args.get("jar-cp")));
        layouts.put(CDS, List.of("-XX:SharedArchiveFile=" + archive, "-cp", args.get("jar-cp")));
        layouts.put(SEQUENTIAL, List.of("-Dcoldstart.sequential=true", "-cp", args.get("dir-cp")));
        layouts.put(SEQUENTIAL_CDS, List.of("-Dcoldstart.sequential=true", "-XX:SharedArchiveFile=" + archive,
                "-cp", args.get("jar-cp")));

        System.err.println("prepare run (extracts the natives into the cache if it is empty; untimed) ...");
        run(args, jvm, List.of("-cp", args.get("dir-cp")));
        System.err.println("dump run: -XX:ArchiveClassesAtExit=" + archive + " ...");
        JsonNode dump = run(args, jvm, List.of("-XX:ArchiveClassesAtExit=" + archive, "-cp", args.get("jar-cp")));
        if (!Files.exists(archive)) {
            throw new IllegalStateException("no archive written at " + archive);
        }
        Map<String, List<JsonNode>> results = new LinkedHashMap<>();
        for (int round = 0; round < rounds; round++) {
            for (Map.Entry<String, List<String>> layout : layouts.entrySet()) {
                JsonNode r = run(args, jvm, layout.getValue());
                results.computeIfAbsent(layout.getKey(), k -> new ArrayList<>()).add(r);
                System.err.printf("round %d, %s: ready %.0f ms, first embedding %.0f ms (load %s)%n", round + 1,
                        layout.getKey(), r.get("ready_ms").asDouble(), r.get("first_ms").asDouble(),
                        BenchDocs.loadAverage());
            }
        }
        String section = section(results, dump, Files.size(archive), rounds, loadBefore,
                args.getOrDefault("command", "bench/coldstart.sh"));
        if (args.containsKey("docs")) {
            BenchDocs.writeSection(Path.of(args.get("docs")), "coldstart", section, false);
            System.err.println("wrote " + args.get("docs"));
        }
        System.out.print(section);
    }

    private static JsonNode run(Map<String, String> args, List<String> jvm, List<String> layout) throws Exception {
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        jvm.stream().filter(s -> !s.isEmpty()).forEach(command::add);
        command.addAll(layout);
        Instant launch = Instant.now();
        command.add(command.size() - 2, "-Dcoldstart.launchEpochNanos="
                + (launch.getEpochSecond() * 1_000_000_000L + launch.getNano()));
        command.add(ColdStart.class.getName());
        command.add(args.get("wav"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectError(ProcessBuilder.Redirect.DISCARD);
        builder.environment().put("DJL_CACHE_DIR", args.get("cache"));
        Process p = builder.start();
        String out = new String(p.getInputStream().readAllBytes());
        if (p.waitFor() != 0) {
            throw new IllegalStateException("cold start run exited with " + p.exitValue() + ": " + out);
        }
        for (String line : out.split("\n")) {
            if (line.startsWith("{")) {
                return JSON.readTree(line);
            }
        }
        throw new IllegalStateException("no result line: " + out);
    }

    private static double median(List<JsonNode> runs, String field) {
        List<Double> values = new ArrayList<>();
        runs.forEach(r -> values.add(r.get(field).asDouble()));
        return EfficiencyBenchmark.median(values);
    }

    private static double min(List<JsonNode> runs, String field) {
        return runs.stream().mapToDouble(r -> r.get(field).asDouble()).min().orElseThrow();
    }

    private static String section(Map<String, List<JsonNode>> results, JsonNode dump, long archiveBytes, int rounds,
                                  String loadBefore, String command) {
        StringBuilder s = new StringBuilder(BenchDocs.begin("coldstart")).append('\n');
        s.append("## Cold start: process start → handler ready → first embedding\n\n");
        s.append("Fresh JVMs of `dev.timbre.bench.ColdStart` (a 3 KB jar in front of the launcher's classpath), with")
                .append(" the launcher's and the image's JVM options (offline DJL, 1 PyTorch thread, `-XX:+UseSerialGC`).")
                .append(" Each builds what a worker builds before it takes a batch, as `WorkerRuntime` does: logging")
                .append(" and the configuration, then the PyTorch engine with the natives already extracted in")
                .append(" `DJL_CACHE_DIR` (as the image has them) and the converter weights on a second thread while")
                .append(" the main thread opens the connection pool with its first connection (local Postgres) and")
                .append(" builds the S3 and SQS clients (`UrlConnectionHttpClient`, no request sent); the engine and")
                .append(" weights rows are that thread's own, overlapped times. Then it embeds a 3 s WAV (decode, resample, extract).")
                .append(" The last two columns build one part after the other, as `WorkerRuntime` did before. Not included: the Lambda runtime")
                .append(" interface client and the embedding store's readiness check (see the deploy section for the")
                .append(" whole runtime). ").append(rounds).append(" rounds, layouts interleaved; medians (min) in ms.")
                .append("\n\n| part |");
        for (String layout : results.keySet()) {
            s.append(' ').append(layout).append(" |");
        }
        s.append("\n|---|");
        results.keySet().forEach(k -> s.append("---:|"));
        s.append('\n');
        for (int i = 0; i < PHASES.length; i++) {
            s.append("| ").append(LABELS[i]).append(" |");
            for (List<JsonNode> runs : results.values()) {
                s.append(BenchDocs.f(" %.0f (%.0f) |", median(runs, PHASES[i]), min(runs, PHASES[i])));
            }
            s.append('\n');
        }
        List<JsonNode> launcher = results.get(LAUNCHER);
        List<JsonNode> cds = results.get(CDS);
        double readyLauncher = median(launcher, "ready_ms");
        double readyCds = median(cds, "ready_ms");
        s.append(BenchDocs.f("%nAppCDS: the archive (%.0f MiB) was dumped by one run with"
                        + " `-XX:ArchiveClassesAtExit` (that run: handler ready at %.0f ms); runs with"
                        + " `-XX:SharedArchiveFile` reached handler-ready in %.0f ms against %.0f ms on the launcher"
                        + " classpath, %.2f× faster (medians, same run). Most of a cold start here is class loading and"
                        + " verification (the AWS SDK, logback, Hikari, DJL): the configuration step alone, which"
                        + " loads the SDK's region and credential classes, is the clearest case. JDK 17 cannot archive"
                        + " classes from a directory (`Cannot have non-empty directory in paths`), so an image that"
                        + " wants the archive puts its classes in a jar in `lib/` instead of the task root and dumps the"
                        + " archive at build time with the same classpath and JVM options.%n%n",
                archiveBytes / 1048576.0, dump.get("ready_ms").asDouble(), readyCds, readyLauncher,
                readyLauncher / readyCds));
        s.append(BenchDocs.goalLine("cold start to handler ready, launcher classpath, 2 cores, natives pre-extracted",
                BenchDocs.f("%.2f s (min %.2f s)", readyLauncher / 1000, min(launcher, "ready_ms") / 1000), "≤ 1.5 s",
                readyLauncher <= 1500, readyLauncher <= 1500 ? "" : BenchDocs.f("class loading: configuration %.0f ms,"
                        + " clients %.0f ms, logging %.0f ms, engine %.0f ms (medians; load %s); AppCDS removes most of it",
                        median(launcher, "config_ms"), median(launcher, "clients_ms"),
                        median(launcher, "logging_ms"), median(launcher, "engine_ms"), loadBefore)));
        double readySequential = median(results.get(SEQUENTIAL), "ready_ms");
        double readySequentialCds = median(results.get(SEQUENTIAL_CDS), "ready_ms");
        s.append(BenchDocs.f("Overlapping the model with the rest: handler ready %.0f ms on the launcher classpath with"
                        + " the engine and weights on their own thread, against %.0f ms with every part built one"
                        + " after the other (%.2f× sooner); with AppCDS %.0f ms against %.0f ms. On 2 cores the two"
                        + " threads mostly compete for the same class loading, so the gain is small here; in a"
                        + " deployment the pool's first connection and the embedding store's readiness check wait on"
                        + " the network, which the model's loading now fills.%n%n", readyLauncher, readySequential,
                readySequential / readyLauncher, readyCds, readySequentialCds));
        s.append(BenchDocs.goalLine("cold start to handler ready with an AppCDS archive (jar layout), 2 cores",
                BenchDocs.f("%.2f s (min %.2f s); %.2f× faster than the launcher classpath", readyCds / 1000,
                        min(cds, "ready_ms") / 1000, readyLauncher / readyCds), "≤ 1.5 s", readyCds <= 1500,
                readyCds <= 1500 ? "" : BenchDocs.f("engine %.0f ms and weights %.0f ms remain (medians; load %s)",
                        median(cds, "engine_ms"), median(cds, "weights_ms"), loadBefore)));
        s.append("\n- Machine: ").append(BenchmarkReport.cpuModel()).append(", nproc ")
                .append(Runtime.getRuntime().availableProcessors()).append(", shared with other jobs; load average ")
                .append(loadBefore).append(" before, ").append(BenchDocs.loadAverage()).append(" after.\n");
        s.append("- Command: `").append(command).append("`\n");
        s.append(BenchDocs.end("coldstart")).append('\n');
        return s.toString();
    }
}
