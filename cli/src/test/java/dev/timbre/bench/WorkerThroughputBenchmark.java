package dev.timbre.bench;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import dev.timbre.audio.AudioLimits;
import dev.timbre.job.JobMessageParser;
import dev.timbre.job.JobStore;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.lambda.VoiceEmbeddingHandler;
import dev.timbre.local.EmbeddedS3;
import dev.timbre.local.EmbeddedSqs;
import dev.timbre.local.LocalContext;
import dev.timbre.pipeline.BatchProcessor;
import dev.timbre.pipeline.DeadLetterQueue;
import dev.timbre.pipeline.JobProcessor;
import dev.timbre.pipeline.PipelineMetrics;
import dev.timbre.pipeline.SqsEvents;
import dev.timbre.pipeline.ToneColorEmbedder;
import dev.timbre.pipeline.WorkerPool;
import dev.timbre.source.S3AudioSource;
import dev.timbre.store.QdrantEmbeddingStore;
import dev.timbre.testing.FakeQdrant;
import dev.timbre.testing.TestDatabase;
import dev.timbre.tone.ToneColorExtractor;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;

/**
 * End-to-end worker throughput: jobs/s for 10 s clips through the real pipeline (S3Proxy, Postgres
 * job table, the real Qdrant client over the in-process Qdrant, the real extractor on the fixture checkpoint),
 * for the seed design (one job at a time on the caller's thread) and for the worker pool at 1, 2, 4 and 8
 * threads fed Lambda-shaped batches of 10 records through {@link VoiceEmbeddingHandler}; then all of it again
 * with 100 ms added to every S3 GET. Not a test: run by {@code bench/worker.sh}, which writes the
 * table into docs/benchmarks.md between the worker markers.
 *
 * <p>Each configuration first runs one untimed warm-up batch (JIT, and each worker thread's converter, which a
 * warm Lambda container already has), then times {@code --jobs} jobs.
 */
public final class WorkerThroughputBenchmark {

    private static final String BUCKET = "timbre-uploads";
    private static final String BEGIN = "<!-- worker:begin -->";
    private static final String END = "<!-- worker:end -->";

    record Result(String design, int threads, long latencyMs, int jobs, double seconds, double cpuSeconds) {
        double jobsPerSecond() {
            return jobs / seconds;
        }
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            options.put(args[i].replaceFirst("^--", ""), args[i + 1]);
        }
        Path converter = Path.of(options.getOrDefault("converter", "infra/model/fixtures/converter"));
        Path clip = Path.of(options.getOrDefault("clip", "infra/model/fixtures/audio/c04_10s_22050_float32_mono.wav"));
        int jobs = Integer.parseInt(options.getOrDefault("jobs", "20"));
        List<Integer> threadCounts = List.of(options.getOrDefault("threads", "1,2,4,8").split(",")).stream()
                .map(String::trim).map(Integer::parseInt).toList();
        long latencyMs = Long.parseLong(options.getOrDefault("latency-ms", "100"));
        Path docs = options.containsKey("docs") ? Path.of(options.get("docs")) : null;
        String command = options.getOrDefault("command", "bench/worker.sh");

        byte[] audio = Files.readAllBytes(clip);
        ToneColorExtractor extractor = ToneColorExtractor.load(converter, AudioLimits.DEFAULT);
        String loadBefore = BenchDocs.loadAverage();
        Instant started = Instant.now();
        List<Result> results = new ArrayList<>();
        for (long latency : List.of(0L, latencyMs)) {
            try (Servers servers = new Servers(Duration.ofMillis(latency), extractor)) {
                results.add(servers.runSeed(audio, jobs));
                System.err.println(describe(results.get(results.size() - 1)));
                for (int threads : threadCounts) {
                    results.add(servers.runPool(audio, jobs, threads));
                    System.err.println(describe(results.get(results.size() - 1)));
                }
            }
        }
        String loadAfter = BenchDocs.loadAverage();
        String section = render(results, clip, jobs, started, command, loadBefore, loadAfter);
        System.out.println(section);
        if (docs != null) {
            writeSection(docs, section);
        }
        extractor.close();
    }

    /** The embedded servers and the real pipeline parts on them. */
    static final class Servers implements AutoCloseable {
        private final TestDatabase db = TestDatabase.create();
        private final EmbeddedS3 s3;
        private final S3Client s3Client;
        private final EmbeddedSqs sqs = EmbeddedSqs.start();
        private final SqsClient sqsClient = sqs.newClient();
        private final FakeQdrant qdrant = FakeQdrant.start();
        private final QdrantEmbeddingStore store;
        private final JobStore jobStore;
        private final S3AudioSource source;
        private final ToneColorExtractor extractor;
        private final PipelineMetrics metrics =
                new PipelineMetrics(new PrintStream(OutputStream.nullOutputStream()), "Timbre", "bench", Clock.systemUTC());
        private final String dlqUrl;
        private final long latencyMs;

        Servers(Duration s3Latency, ToneColorExtractor extractor) {
            this.latencyMs = s3Latency.toMillis();
            this.extractor = extractor;
            s3 = s3Latency.isZero() ? EmbeddedS3.start() : EmbeddedS3.startWithReadLatency(s3Latency);
            s3.createBucket(BUCKET);
            s3Client = s3.newClient();
            store = new QdrantEmbeddingStore(qdrant.newClient(), "voice_embeddings", 256, Duration.ofSeconds(10));
            store.ensureReady();
            jobStore = new PostgresJobStore(db.dataSource());
            source = new S3AudioSource(s3Client, BUCKET, Set.of(BUCKET), AudioLimits.DEFAULT.maxBytes());
            dlqUrl = sqs.createQueue("bench-dlq", Duration.ofSeconds(30));
        }

        private JobProcessor processor() {
            return processor(dev.timbre.tone.SeMode.EXTRACT_SE);
        }

        private JobProcessor processor(dev.timbre.tone.SeMode mode) {
            return new JobProcessor(jobStore, source, store, new ToneColorEmbedder(extractor), mode, 5, metrics,
                    Clock.systemUTC());
        }

        private List<SqsEvents.Record> submit(byte[] audio, int n) {
            List<SqsEvents.Record> records = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                UUID job = UUID.randomUUID();
                String key = "uploads/bench/" + job + ".wav";
                s3.put(BUCKET, key, audio);
                jobStore.create(job, "bench", key);
                records.add(SqsEvents.Record.of("{\"job_id\":\"" + job + "\",\"voice_id\":\"bench\",\"s3_key\":\"" + key + "\"}"));
            }
            return records;
        }

        /** The seed design: one job at a time, on the caller's thread, no pool. */
        Result runSeed(byte[] audio, int jobs) {
            return runSeed(audio, jobs, dev.timbre.tone.SeMode.EXTRACT_SE);
        }

        /** {@link #runSeed(byte[], int)} with every job embedded in {@code mode} (the deployment default). */
        Result runSeed(byte[] audio, int jobs, dev.timbre.tone.SeMode mode) {
            JobProcessor processor = processor(mode);
            JobMessageParser parser = new JobMessageParser();
            for (SqsEvents.Record warm : submit(audio, 1)) {
                processor.process(parser.parse(warm.body()), 1);
            }
            List<SqsEvents.Record> records = submit(audio, jobs);
            long cpu0 = processCpuNanos();
            long t0 = System.nanoTime();
            for (SqsEvents.Record r : records) {
                var outcome = processor.process(parser.parse(r.body()), 1);
                if (!outcome.disposition().acknowledged()) {
                    throw new IllegalStateException("seed job failed: " + outcome);
                }
            }
            return new Result("seed: one job at a time, " + mode.id(), 1, latencyMs, jobs, (System.nanoTime() - t0) / 1e9,
                    (processCpuNanos() - cpu0) / 1e9);
        }

        /** The worker: a pool of {@code threads}, Lambda-shaped batches of 10 records through the handler. */
        Result runPool(byte[] audio, int jobs, int threads) {
            try (WorkerPool pool = new WorkerPool(threads)) {
                BatchProcessor batches = new BatchProcessor(pool, new JobMessageParser(), processor(),
                        new DeadLetterQueue(sqsClient, dlqUrl), metrics, Clock.systemUTC());
                VoiceEmbeddingHandler handler = new VoiceEmbeddingHandler(batches, metrics, Duration.ofSeconds(5),
                        Clock.systemUTC());
                invoke(handler, submit(audio, Math.min(10, Math.max(threads, 2))));
                List<SqsEvents.Record> records = submit(audio, jobs);
                long cpu0 = processCpuNanos();
                long t0 = System.nanoTime();
                for (int from = 0; from < records.size(); from += 10) {
                    invoke(handler, records.subList(from, Math.min(records.size(), from + 10)));
                }
                return new Result("worker pool", threads, latencyMs, jobs, (System.nanoTime() - t0) / 1e9,
                        (processCpuNanos() - cpu0) / 1e9);
            }
        }

        private static void invoke(VoiceEmbeddingHandler handler, List<SqsEvents.Record> records) {
            SQSBatchResponse response = handler.handleRequest(SqsEvents.of(records),
                    new LocalContext("bench", Duration.ofMinutes(15).toMillis(), 10240));
            if (!response.getBatchItemFailures().isEmpty()) {
                throw new IllegalStateException("batch had failures: " + response.getBatchItemFailures().size());
            }
        }

        @Override
        public void close() {
            store.close();
            qdrant.close();
            sqsClient.close();
            sqs.close();
            s3Client.close();
            s3.close();
            db.close();
        }
    }

    private static String describe(Result r) {
        return String.format(Locale.ROOT, "%-24s threads=%d s3+%dms: %d jobs in %.2f s = %.2f jobs/s, %.3f CPU s/job",
                r.design(), r.threads(), r.latencyMs(), r.jobs(), r.seconds(), r.jobsPerSecond(), r.cpuSeconds() / r.jobs());
    }

    private static String render(List<Result> results, Path clip, int jobs, Instant started, String command,
                                 String loadBefore, String loadAfter) {
        Map<Long, Double> seedRate = new LinkedHashMap<>();
        Map<Long, Double> oneThread = new LinkedHashMap<>();
        for (Result r : results) {
            if (r.design().startsWith("seed")) {
                seedRate.put(r.latencyMs(), r.jobsPerSecond());
            } else if (r.threads() == 1) {
                oneThread.put(r.latencyMs(), r.jobsPerSecond());
            }
        }
        StringBuilder b = new StringBuilder();
        b.append(BEGIN).append('\n');
        b.append("## Worker throughput: end to end, 10 s clips\n\n");
        b.append("Measured ").append(started.truncatedTo(ChronoUnit.SECONDS)).append(" with `").append(command).append("`.\n\n");
        b.append("Machine: ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs (")
                .append(BenchmarkReport.cpuModel()).append("), Java ").append(System.getProperty("java.version"))
                .append("; load average before/after: ").append(loadBefore).append(" / ").append(loadAfter)
                .append(" (the machine is shared with other builds).\n\n");
        b.append("Each job: Postgres pick-up, one S3Proxy GET of `").append(clip.getFileName())
                .append("`, decode + resample + extract (fixture checkpoint, one PyTorch thread per converter), ")
                .append("Qdrant upsert (real client, in-process gRPC Qdrant), Postgres completion. ")
                .append(jobs).append(" timed jobs per row after one untimed warm-up batch; the pool is fed ")
                .append("Lambda-shaped batches of 10 records through `VoiceEmbeddingHandler`.\n\n");
        b.append("| design | worker threads | S3 latency added | jobs/s | CPU s per job | × seed | × 1 thread (same latency) |\n");
        b.append("|---|---:|---:|---:|---:|---:|---:|\n");
        for (Result r : results) {
            b.append(String.format(Locale.ROOT, "| %s | %d | %d ms | %.2f | %.3f | %.2f | %s |%n", r.design(), r.threads(),
                    r.latencyMs(), r.jobsPerSecond(), r.cpuSeconds() / r.jobs(), r.jobsPerSecond() / seedRate.get(r.latencyMs()),
                    r.design().startsWith("seed") ? "" : String.format(Locale.ROOT, "%.2f",
                            r.jobsPerSecond() / oneThread.get(r.latencyMs()))));
        }
        double cpuBound = results.stream().filter(r -> r.latencyMs() == 0 && !r.design().startsWith("seed"))
                .mapToDouble(Result::jobsPerSecond).max().orElse(Double.NaN);
        double withLatency = results.stream().filter(r -> r.latencyMs() > 0 && !r.design().startsWith("seed"))
                .mapToDouble(Result::jobsPerSecond).max().orElse(Double.NaN);
        double oneToTwo = results.stream().filter(r -> r.latencyMs() == 0 && r.threads() == 2 && !r.design().startsWith("seed"))
                .mapToDouble(Result::jobsPerSecond).findFirst().orElse(Double.NaN) / oneThread.getOrDefault(0L, Double.NaN);
        b.append(String.format(Locale.ROOT, "%nGoals: 1 → 2 threads %.2f× (goal ≥ 1.8×); best rate with 100 ms S3 latency "
                + "%.0f %% of the best CPU-bound rate (goal ≥ 90 %%).%n", oneToTwo, 100 * withLatency / cpuBound));
        b.append("\nCPU s per job is this JVM's CPU time (worker and the embedded servers together) per timed job: it does not ")
                .append("depend on other processes, so it shows what the pool costs per job even where the wall-clock rates cannot.\n");
        results.stream().filter(r -> r.latencyMs() == 0 && r.threads() == 1 && !r.design().startsWith("seed"))
                .findFirst().ifPresent(r -> b.append(String.format(Locale.ROOT, "At 1 thread without added latency a job "
                        + "took %.0f ms of wall time and %.0f ms of this JVM's CPU: the rest is waiting (for a core on "
                        + "this shared machine, Postgres commits, HTTP and gRPC round trips), which is what extra "
                        + "worker threads overlap.%n", 1000 * r.seconds() / r.jobs(), 1000 * r.cpuSeconds() / r.jobs())));
        double load = parseLoad(loadBefore);
        int cpus = Runtime.getRuntime().availableProcessors();
        if (load > cpus) {
            b.append(String.format(Locale.ROOT, "%n**Caveat:** the load average (%.1f) was %.0f× the CPU count when this ran: "
                    + "the rows compare shares of a contended machine, not the worker's scaling. Rerun `bench/worker.sh` "
                    + "on an idle machine with ≥ 2 free cores for the goals to be meaningful.%n", load, load / cpus));
        }
        b.append(END).append('\n');
        return b.toString();
    }

    private static void writeSection(Path docs, String section) throws IOException {
        String text = Files.exists(docs) ? Files.readString(docs, StandardCharsets.UTF_8) : "";
        int begin = text.indexOf(BEGIN);
        int end = text.indexOf(END);
        String updated;
        if (begin >= 0 && end > begin) {
            updated = text.substring(0, begin) + section + text.substring(end + END.length()).replaceFirst("^\n", "");
        } else {
            updated = text.isEmpty() ? section : text.stripTrailing() + "\n\n" + section;
        }
        Files.writeString(docs, updated, StandardCharsets.UTF_8);
    }

    static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getProcessCpuTime();
    }

    private static double parseLoad(String load) {
        try {
            return Double.parseDouble(load);
        } catch (NumberFormatException e) {
            return 0;
        }
    }
}
