package dev.timbre.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.timbre.job.JobRecord;
import dev.timbre.job.JobStatus;
import dev.timbre.local.DemoReport;
import dev.timbre.local.LocalStack;
import dev.timbre.local.Progress;
import dev.timbre.local.VoiceSpec;
import dev.timbre.local.VoiceSynth;
import dev.timbre.local.WavWriter;
import dev.timbre.store.StoredEmbedding;
import dev.timbre.tone.SeMode;
import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * {@code timbre demo}: the whole pipeline on one machine. Starts the {@link LocalStack}, uploads audio (given
 * files, or synthetic voices), creates job rows, publishes job messages, shows progress, and ends with the job
 * table, the similarity matrix and where the data lives. Exit 0 when every job ended as expected (good jobs
 * COMPLETED; with {@code --include-bad}, the corrupt file FAILED and the poison message in the DLQ), 1 otherwise.
 */
@Command(name = "demo",
        mixinStandardHelpOptions = true,
        description = {"Run real jobs through the whole pipeline on embedded defaults (no AWS, Docker or Qdrant).",
                "Uses TIMBRE_DB_URL, TIMBRE_QDRANT_URL, TIMBRE_AMQP_URL and TIMBRE_CONVERTER_DIR when set."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:every job ended as expected", "1:a job ended unexpectedly or the demo failed",
                "2:usage error", "3:bad input (a given file cannot be read)"})
final class DemoCommand implements Callable<Integer> {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Parameters(arity = "0..*", paramLabel = "AUDIO", description = "Audio files to process (default: synthetic voices).")
    List<Path> audio = new ArrayList<>();

    @Option(names = "--include-bad", description = "Also submit a corrupt file and a poison message.")
    boolean includeBad;

    @Option(names = "--clips", paramLabel = "N", description = "Synthetic clips when no files are given (default: ${DEFAULT-VALUE}).")
    int clips = 10;

    @Option(names = "--seconds", paramLabel = "S", description = "Length of each synthetic clip (default: ${DEFAULT-VALUE}).")
    double seconds = 4.0;

    @Option(names = "--data-dir", paramLabel = "DIR", description = "Where embedded Postgres and S3 keep data (default: .timbre under the project).")
    Path dataDir;

    @Option(names = "--concurrency", paramLabel = "N", description = "Concurrent local Lambda invocations (default: ${DEFAULT-VALUE}).")
    int concurrency = 2;

    @Option(names = "--batch-size", paramLabel = "N", description = "Records per invocation, 1..10 (default: ${DEFAULT-VALUE}).")
    int batchSize = 10;

    @Option(names = "--batching-window-ms", paramLabel = "MS", description = "Batching window (default: ${DEFAULT-VALUE}).")
    long batchingWindowMs = 200;

    @Option(names = "--timeout", paramLabel = "S", description = "Give up waiting after this many seconds (default: ${DEFAULT-VALUE}).")
    long timeoutSeconds = 600;

    /** One submitted job and what the demo expects of it. */
    private record DemoJob(UUID id, String voice, String key, double seconds, boolean expectFailure) {
    }

    @Override
    public Integer call() throws Exception {
        if (batchSize < 1 || batchSize > 10) {
            throw new BadInputException("--batch-size must be within 1..10 (one SQS receive), was " + batchSize);
        }
        if (concurrency < 1 || concurrency > 64) {
            throw new BadInputException("--concurrency must be within 1..64, was " + concurrency);
        }
        if (batchingWindowMs < 0 || batchingWindowMs > 300_000) {
            throw new BadInputException("--batching-window-ms must be within 0..300000, was " + batchingWindowMs);
        }
        if (timeoutSeconds < 1) {
            throw new BadInputException("--timeout must be at least 1 second, was " + timeoutSeconds);
        }
        if (clips < 1 || clips > 10_000) {
            throw new BadInputException("--clips must be within 1..10000, was " + clips);
        }
        if (!(seconds >= 0.1 && seconds <= 600)) {
            throw new BadInputException("--seconds must be within 0.1..600, was " + seconds);
        }
        for (Path p : audio) {
            if (!Files.isRegularFile(p)) {
                throw new BadInputException(p + ": no such file");
            }
        }
        Path home = Path.of(System.getProperty("timbre.home", "")).toAbsolutePath();
        Path data = (dataDir != null ? dataDir : home.resolve(".timbre")).toAbsolutePath();
        Files.createDirectories(data);

        // Logs and EMF metrics go to a file; the terminal shows the demo itself.
        PrintStream console = System.out;
        Path logFile = data.resolve("demo.log");
        PrintStream log = new PrintStream(new FileOutputStream(logFile.toFile(), false), true, StandardCharsets.UTF_8);
        System.setOut(log);
        try {
            return run(console, home, data, logFile);
        } finally {
            System.setOut(console);
            log.close();
        }
    }

    private int run(PrintStream console, Path home, Path data, Path logFile) throws IOException, InterruptedException {
        boolean realWeights = System.getenv("TIMBRE_CONVERTER_DIR") != null;
        console.println("Timbre demo: the whole pipeline on this machine");
        if (!realWeights) {
            console.println("NOTE: using the bundled demo checkpoint; its weights are RANDOM. The embeddings show the "
                    + "plumbing, not real voice similarity. Set TIMBRE_CONVERTER_DIR to OpenVoice's "
                    + "checkpoints_v2/converter for real ones.");
        }
        console.println();
        long startNanos = System.nanoTime();
        LocalStack.Options options = new LocalStack.Options(data, System.getenv(), home, batchSize,
                Duration.ofMillis(batchingWindowMs), concurrency, 3, Duration.ofSeconds(20));
        try (LocalStack stack = LocalStack.start(options, console)) {
            Thread closer = new Thread(stack::close, "demo-shutdown");
            Runtime.getRuntime().addShutdownHook(closer);
            console.printf(Locale.ROOT, "ready in %.1f s (logs: %s)%n%n", (System.nanoTime() - startNanos) / 1e9, logFile);

            long submittedAt = System.nanoTime();
            List<DemoJob> jobs = submit(stack, console);
            String poisonBody = null;
            if (includeBad) {
                poisonBody = "{\"job_id\": \"not-a-uuid\", \"voice_id\": \"poison\", \"s3_key\": \"uploads/none.wav\"}";
                stack.publish(poisonBody);
                console.println("submitted a poison message (invalid job_id): it must end in the DLQ");
            }
            console.println();

            Progress progress = new Progress(console, System.console() != null, jobs.size(), submittedAt);
            boolean finished = waitForJobs(stack, jobs, progress);
            progress.finish();
            double elapsed = progress.elapsedSeconds();
            List<Message> deadLetters = poisonBody == null ? List.of() : awaitDeadLetters(stack, 1);

            boolean asExpected = report(stack, jobs, deadLetters, poisonBody, console, elapsed);
            asExpected &= printEvents(stack, jobs, console);
            console.println();
            console.println("where the data lives:");
            console.println("  jobs:        voice_processing_jobs in " + stack.postgresWhere());
            console.println("  embeddings:  " + stack.store().collection());
            console.println("  audio:       " + data.resolve("s3").resolve(LocalStack.BUCKET));
            stack.config().events().queueUrl().ifPresent(q -> console.println("  events:      queue " + q));
            console.println("  logs:        " + logFile);
            if (!finished) {
                console.println("timed out after " + timeoutSeconds + " s waiting for jobs");
            }
            Runtime.getRuntime().removeShutdownHook(closer);
            console.println();
            console.println(asExpected && finished ? "demo finished: every job ended as expected"
                    : "demo finished: SOME JOBS DID NOT END AS EXPECTED (see the table and " + logFile + ")");
            return asExpected && finished ? ExitCodes.OK : ExitCodes.FAILURE;
        }
    }

    private List<DemoJob> submit(LocalStack stack, PrintStream console) throws IOException {
        List<DemoJob> jobs = new ArrayList<>();
        int rate = 22050;
        if (audio.isEmpty()) {
            VoiceSpec[] voices = VoiceSpec.demoVoices();
            VoiceSynth synth = new VoiceSynth(rate);
            for (int i = 0; i < clips; i++) {
                VoiceSpec v = voices[i % voices.length];
                byte[] wav = WavWriter.pcm16(synth.synthesize(v, seconds, 1000 + i), rate);
                jobs.add(submitOne(stack, v.name(), wav, seconds, false, SeMode.EXTRACT_SE));
            }
            console.printf(Locale.ROOT, "submitted %d synthetic clips of %.1f s (%d voices) via %s%n", clips, seconds,
                    Math.min(clips, voices.length), stack.publisherDescription());
        } else {
            for (Path p : audio) {
                String voice = p.getFileName().toString().replaceFirst("\\.[^.]*$", "");
                jobs.add(submitOne(stack, voice, Files.readAllBytes(p), Double.NaN, false, null));
            }
            console.printf(Locale.ROOT, "submitted %d files via %s%n", audio.size(), stack.publisherDescription());
        }
        if (includeBad) {
            byte[] corrupt = new byte[4096];
            new SplittableRandom(7).nextBytes(corrupt);
            System.arraycopy("RIFF".getBytes(StandardCharsets.US_ASCII), 0, corrupt, 0, 4);
            jobs.add(submitOne(stack, "corrupt", corrupt, Double.NaN, true, SeMode.EXTRACT_SE));
            console.println("submitted a corrupt file: it must end FAILED with a clear error");
        }
        return jobs;
    }

    /**
     * @param mode the job's se_mode; null leaves it to TIMBRE_SE_MODE. The synthetic clips are not speech (the VAD
     *             of get-se would keep nothing of them), so they are submitted as extract-se.
     */
    private DemoJob submitOne(LocalStack stack, String voice, byte[] bytes, double seconds, boolean expectFailure,
                              SeMode mode) throws IOException {
        UUID id = UUID.randomUUID();
        String key = "uploads/" + id + ".audio";
        stack.upload(key, bytes);
        stack.jobs().create(id, voice, key);
        ObjectNode message = JSON.createObjectNode();
        message.put("job_id", id.toString());
        message.put("voice_id", voice);
        message.put("s3_key", key);
        if (mode != null) {
            message.put("se_mode", mode.id());
        }
        message.putObject("metadata").put("filename", voice + ".wav").put("source", "timbre demo");
        stack.publish(JSON.writeValueAsString(message));
        return new DemoJob(id, voice, key, seconds, expectFailure);
    }

    private boolean waitForJobs(LocalStack stack, List<DemoJob> jobs, Progress progress) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(timeoutSeconds).toNanos();
        while (true) {
            int completed = 0;
            int failed = 0;
            for (DemoJob j : jobs) {
                Optional<JobRecord> r = stack.jobs().find(j.id());
                JobStatus s = r.map(JobRecord::status).orElse(JobStatus.PENDING);
                if (s == JobStatus.COMPLETED) {
                    completed++;
                } else if (s == JobStatus.FAILED) {
                    failed++;
                }
            }
            progress.update(completed, failed);
            if (completed + failed == jobs.size()) {
                return true;
            }
            if (System.nanoTime() > deadline) {
                return false;
            }
            Thread.sleep(250);
        }
    }

    private List<Message> awaitDeadLetters(LocalStack stack, int expected) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
        List<Message> found = stack.peekDeadLetters();
        while (found.size() < expected && System.nanoTime() < deadline) {
            Thread.sleep(250);
            found = stack.peekDeadLetters();
        }
        return found;
    }

    /**
     * Prints the completion events the local events queue received (docs/architecture.md §13): one per finished job is
     * expected, identical by event id across copies (at-least-once), none for another job.
     */
    private boolean printEvents(LocalStack stack, List<DemoJob> jobs, PrintStream console) throws IOException {
        if (stack.config().events().queueUrl().isEmpty()) {
            console.println();
            console.println("events: sent to " + stack.config().events().bus().map(b -> "EventBridge bus " + b)
                    .orElse("no sink") + " (not read by the demo)");
            return true;
        }
        java.util.Set<UUID> finished = new java.util.HashSet<>();
        for (DemoJob j : jobs) {
            stack.jobs().find(j.id()).filter(r -> r.status() == JobStatus.COMPLETED || r.status() == JobStatus.FAILED)
                    .ifPresent(r -> finished.add(r.id()));
        }
        java.util.Map<String, JsonNode> byId = new java.util.LinkedHashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        while (System.nanoTime() < deadline) {
            for (String body : stack.drainEvents(Duration.ofSeconds(3))) {
                JsonNode event = JSON.readTree(body);
                byId.putIfAbsent(event.path("id").asText(), event);
            }
            if (byId.values().stream().map(e -> e.path("detail").path("job_id").asText()).collect(
                    java.util.stream.Collectors.toSet()).containsAll(finished.stream().map(UUID::toString).toList())) {
                break;
            }
        }
        console.println();
        console.println("events received on " + LocalStack.EVENTS_QUEUE + " (EventBridge's shape; ./timbre events reads "
                + "the queue):");
        java.util.Set<UUID> reported = new java.util.HashSet<>();
        java.util.Set<UUID> ours = new java.util.HashSet<>();
        jobs.forEach(j -> ours.add(j.id()));
        int earlier = 0;
        for (JsonNode e : byId.values()) {
            JsonNode d = e.path("detail");
            if (!ours.contains(UUID.fromString(d.path("job_id").asText()))) {
                earlier++; // a job of an earlier demo on the same database, whose event waited in the outbox
                continue;
            }
            console.printf(Locale.ROOT, "  %-26s job %s  voice %-10s attempts %d  id %s%n", e.path("detail-type").asText(),
                    d.path("job_id").asText(), d.path("voice_id").asText(), d.path("attempts").asInt(),
                    e.path("id").asText());
            reported.add(UUID.fromString(d.path("job_id").asText()));
        }
        boolean ok = reported.equals(finished);
        console.printf(Locale.ROOT, "%d distinct events for %d finished jobs%s%s%n", reported.size(), finished.size(),
                earlier > 0 ? " (and " + earlier + " left over from an earlier run)" : "",
                ok ? "" : ": EVENTS MISSING OR EXTRA");
        return ok;
    }

    private boolean report(LocalStack stack, List<DemoJob> jobs, List<Message> deadLetters, String poisonBody,
                           PrintStream console, double elapsed) throws IOException {
        List<DemoReport.Row> rows = new ArrayList<>();
        List<DemoReport.Labelled> vectors = new ArrayList<>();
        boolean asExpected = true;
        int completed = 0;
        java.util.Map<String, Integer> voiceCounts = new java.util.HashMap<>();
        for (DemoJob j : jobs) {
            JobRecord r = stack.jobs().find(j.id()).orElse(null);
            String status = r == null ? "MISSING" : r.status().name();
            double duration = j.seconds();
            if (r != null && r.resultJson() != null) {
                JsonNode result = JSON.readTree(r.resultJson());
                duration = result.path("audio").path("duration_s").asDouble(duration);
            }
            long millis = r != null && r.startedAt() != null && r.finishedAt() != null
                    ? Duration.between(r.startedAt(), r.finishedAt()).toMillis() : 0;
            rows.add(new DemoReport.Row(j.id().toString(), j.voice(), status, Double.isNaN(duration) ? 0 : duration,
                    millis, r == null ? "job row missing" : r.error()));
            JobStatus expected = j.expectFailure() ? JobStatus.FAILED : JobStatus.COMPLETED;
            if (r == null || r.status() != expected) {
                asExpected = false;
            }
            if (r != null && r.status() == JobStatus.COMPLETED) {
                completed++;
                Optional<StoredEmbedding> e = stack.store().get(j.id());
                if (e.isPresent()) {
                    int n = voiceCounts.merge(j.voice(), 1, Integer::sum);
                    vectors.add(new DemoReport.Labelled(j.voice() + "#" + n, e.get().vector()));
                } else {
                    asExpected = false;
                    console.println("job " + j.id() + " is COMPLETED but has no embedding in " + stack.store().collection());
                }
            }
        }
        console.println();
        DemoReport.printTable(console, rows);
        console.println();
        if (vectors.size() <= 20) {
            DemoReport.printSimilarity(console, vectors);
        } else {
            console.println("(similarity matrix skipped: " + vectors.size() + " embeddings; it is shown for 20 or fewer)");
        }
        console.println();
        console.printf(Locale.ROOT, "throughput: %d jobs completed in %.1f s = %.2f jobs/s (%d worker threads, "
                        + "%d concurrent invocations)%n", completed, elapsed, completed / Math.max(elapsed, 1e-9),
                stack.config().workerThreads(), concurrency);
        if (poisonBody != null) {
            boolean found = false;
            for (Message m : deadLetters) {
                String reason = m.messageAttributes().containsKey("timbre_poison_reason")
                        ? m.messageAttributes().get("timbre_poison_reason").stringValue() : "(no reason attribute)";
                console.println("DLQ: " + m.body() + "  reason: " + reason);
                found |= poisonBody.equals(m.body());
            }
            if (!found) {
                console.println("DLQ: the poison message is NOT in the DLQ");
                asExpected = false;
            }
        }
        return asExpected;
    }
}
