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
 * Cold start, not a test; run {@code bench/coldstart.sh}. Starts fresh JVMs of
 * {@link ColdStart}, each measuring process start → handler ready → first embedding, split into JVM, logging,
 * configuration, connection pool, AWS clients, engine and weights. Three layouts, interleaved per round: the
 * launcher's classpath (classes directory + {@code lib/*}), the same classes as a jar, and that jar with a JDK 25
 * AOT cache (JEP 483/514/515) written by one earlier training run ({@code -XX:AOTCacheOutput}, then
 * {@code -XX:AOTCache}). The JVM refuses a cache with a non-empty directory on the classpath, which is why the cache
 * needs the jar layout (as {@code ./timbre} runs cli's jar with it).
 *
 * <p>Options: {@code --dir-cp CP --jar-cp CP --archive FILE --cache DIR --wav FILE [--rounds 3] [--docs FILE]
 * [--command TEXT] [--jvm-options "..."]}.
 */
public final class ColdStartBenchmark {
    private static final ObjectMapper JSON = new ObjectMapper();
    static final String[] PHASES = {"jvm_ms", "logging_ms", "config_ms", "db_ms", "clients_ms", "dlopen_ms",
            "engine_ms", "weights_ms", "ready_ms", "embed_ms", "first_ms"};
    static final String[] LABELS = {"JVM start → main", "logging (logback)", "configuration", "connection pool"
            + " (first connection)", "S3 + SQS clients", "libtorch_cpu.so dlopen (relocations, static"
            + " initialisers)", "rest of the PyTorch engine (DJL; natives pre-extracted)", "weights"
            + " (checkpoint read, weight norm folded)", "**process start → handler ready**", "first embedding"
            + " (decode + resample + extract, 3 s WAV)", "**process start → first embedding**"};

    static final String AOT = "jar + lib/* + AOT cache";
    static final String PARALLEL = "launcher classpath, engine + weights on a second thread";
    static final String PARALLEL_CDS = "AOT cache + engine and weights on a second thread";

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
        layouts.put("launcher classpath (classes dir + lib/*)", List.of("-cp", args.get("dir-cp")));
        layouts.put("jar + lib/*", List.of("-cp", args.get("jar-cp")));
        layouts.put(AOT, List.of("-XX:AOTCache=" + archive, "-cp",
                args.get("jar-cp")));
        layouts.put(PARALLEL, List.of("-Dcoldstart.parallelModel=true", "-cp", args.get("dir-cp")));
        layouts.put(PARALLEL_CDS, List.of("-Dcoldstart.parallelModel=true", "-XX:AOTCache=" + archive,
                "-cp", args.get("jar-cp")));

        System.err.println("prepare run (extracts the natives into the cache if it is empty; untimed) ...");
        run(args, jvm, List.of("-cp", args.get("dir-cp")));
        System.err.println("training run: -XX:AOTCacheOutput=" + archive + " ...");
        JsonNode dump = run(args, jvm, List.of("-XX:AOTCacheOutput=" + archive, "-cp", args.get("jar-cp")));
        if (!Files.exists(archive)) {
            throw new IllegalStateException("no AOT cache written at " + archive);
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
                .append(" Each builds what a worker builds before it takes a batch, in `WorkerRuntime`'s order: the")
                .append(" configuration, the connection pool with its first connection (local Postgres), the S3 and SQS")
                .append(" clients (`UrlConnectionHttpClient`, no request sent), the PyTorch engine with the natives")
                .append(" already extracted in `DJL_CACHE_DIR` (as the image has them), and the converter weights;")
                .append(" then it embeds a 3 s WAV (decode, resample, extract). Not included: the Lambda runtime")
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
        List<JsonNode> launcher = results.get("launcher classpath (classes dir + lib/*)");
        List<JsonNode> cds = results.get(AOT);
        double readyLauncher = median(launcher, "ready_ms");
        double readyCds = median(cds, "ready_ms");
        s.append(BenchDocs.f("%nAOT cache (JDK 25): the cache (%.0f MiB: classes loaded and linked, method profiles)"
                        + " was written by one training run with `-XX:AOTCacheOutput` (that run: handler ready at"
                        + " %.0f ms); runs with `-XX:AOTCache` reached handler-ready in %.0f ms against %.0f ms on the"
                        + " launcher classpath, %.2f× faster (medians, same run). What it removes is class loading,"
                        + " verification and linking (the AWS SDK, logback, Hikari, DJL); what it cannot remove is"
                        + " native work: libtorch's dlopen and initialisation (engine) and reading the weights. The JVM"
                        + " refuses a cache with a classes directory on the classpath, so `./timbre` runs cli's jar"
                        + " with it (`cli/target/timbre.aot`).%n%n",
                archiveBytes / 1048576.0, dump.get("ready_ms").asDouble(), readyCds, readyLauncher,
                readyLauncher / readyCds));
        s.append(BenchDocs.goalLine("cold start to handler ready, launcher classpath, 2 cores, natives pre-extracted",
                BenchDocs.f("%.2f s (min %.2f s)", readyLauncher / 1000, min(launcher, "ready_ms") / 1000), "≤ 1.5 s",
                readyLauncher <= 1500, readyLauncher <= 1500 ? "" : BenchDocs.f("class loading: configuration %.0f ms,"
                        + " clients %.0f ms, logging %.0f ms, engine %.0f ms (medians; load %s); the AOT cache removes most of it",
                        median(launcher, "config_ms"), median(launcher, "clients_ms"),
                        median(launcher, "logging_ms"),
                        median(launcher, "dlopen_ms") + median(launcher, "engine_ms"), loadBefore)));
        List<JsonNode> parallel = results.get(PARALLEL);
        List<JsonNode> parallelCds = results.get(PARALLEL_CDS);
        double readyParallel = median(parallel, "ready_ms");
        double readyParallelCds = median(parallelCds, "ready_ms");
        s.append(BenchDocs.f("Overlapping the model with the rest: in the last two columns the engine and weights load"
                        + " on a second thread from the first line of `main` while the main thread sets up logging,"
                        + " configuration, pool and clients (the engine and weights rows are then that thread's own"
                        + " times, overlapped). Handler ready: %.0f ms on the launcher classpath (%.2f× faster than in"
                        + " sequence), %.0f ms with the AOT cache as well. This is what `WorkerRuntime` does"
                        + " (`ToneColorExtractor.loadInBackground` first, joined after the pool, clients and store); on 2"
                        + " cores the two threads also compete for class loading, so the gain is smaller than the"
                        + " model's share.%n%n", readyParallel, readyLauncher / readyParallel,
                readyParallelCds));
        s.append(BenchDocs.goalLine("cold start to handler ready with the JDK 25 AOT cache (jar layout), model loaded"
                        + " on its own thread as `WorkerRuntime` does, 2 cores",
                BenchDocs.f("%.2f s (min %.2f s); %.2f× faster than the launcher classpath in sequence",
                        readyParallelCds / 1000, min(parallelCds, "ready_ms") / 1000, readyLauncher / readyParallelCds),
                "≤ 0.6 s", readyParallelCds <= 600, readyParallelCds <= 600 ? ""
                        : BenchDocs.f("in sequence (AOT column): JVM start %.0f ms, libtorch's own dlopen %.0f ms, the"
                        + " rest of the engine %.0f ms, weights %.0f ms (medians; load %s)", median(cds, "jvm_ms"),
                        median(cds, "dlopen_ms"), median(cds, "engine_ms"), median(cds, "weights_ms"), loadBefore)));
        s.append("\n- Machine: ").append(BenchmarkReport.cpuModel()).append(", nproc ")
                .append(Runtime.getRuntime().availableProcessors()).append(", shared with other jobs; load average ")
                .append(loadBefore).append(" before, ").append(BenchDocs.loadAverage()).append(" after.\n");
        s.append("- Command: `").append(command).append("`\n");
        s.append(BenchDocs.end("coldstart")).append('\n');
        return s.toString();
    }
}
