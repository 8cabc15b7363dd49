package dev.timbre.blackbox;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.job.JobStatus;
import dev.timbre.local.VoiceSpec;
import dev.timbre.local.VoiceSynth;
import dev.timbre.local.WavWriter;
import dev.timbre.testing.JobInvariant;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import java.util.stream.IntStream;
import javax.sql.DataSource;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The first things a new operator does, in order, each through {@code ./timbre} and checked from outside (exit
 * status, stdout parsed as JSON, the database, the queues): {@code migrate} a new database, {@code submit} audio,
 * run the {@code worker}, read {@code status}, ask {@code similar}, and stop the worker with SIGTERM. Shared by the
 * run against separate local servers and the run against LocalStack.
 */
final class Pipeline {

    private static final ObjectMapper JSON = new ObjectMapper();
    static final Path AUDIO = Timbre.ROOT.resolve("infra/model/fixtures/audio");
    /** Bounds waiting for jobs; no assertion depends on how fast they finish. */
    private static final Duration JOBS_TIMEOUT = Duration.ofMinutes(4);

    private final BlackBoxStack stack;
    private final Timbre timbre;

    Pipeline(BlackBoxStack stack) {
        this.stack = stack;
        this.timbre = stack.timbre();
    }

    /** A submitted job as {@code submit} printed it. */
    record Submitted(String jobId, String voice, Path file, boolean good) {
    }

    /** {@code migrate} on a database with no schema creates it; a second run finds nothing to do and succeeds. */
    void migrateCreatesTheSchemaOfANewDatabase() {
        assertFalse(tableExists(stack.db(), "voice_processing_jobs"), "the database starts empty");

        Timbre.Result first = timbre.run(stack.env(), "migrate");
        assertEquals(0, first.exit(), first.describe());
        assertTrue(tableExists(stack.db(), "voice_processing_jobs"), "migrate created the job table");
        assertTrue(tableExists(stack.db(), "voice_embeddings"), "migrate created the embedding table");

        Timbre.Result again = timbre.run(stack.env(), "migrate");
        assertEquals(0, again.exit(), "migrate is safe to run on every deploy: " + again.describe());
    }

    /**
     * Good recordings of three voices, a corrupt file and a poison message through {@code submit}, the worker,
     * {@code status} and {@code similar}; ends with the worker stopped by SIGTERM while idle.
     *
     * @return the submitted jobs
     */
    List<Submitted> submitWorkStatusSimilar(Path scratch) {
        List<Submitted> jobs = new ArrayList<>();
        try (WorkerRun worker = WorkerRun.start(stack, "worker-1")) {
            jobs.add(submit(AUDIO.resolve("voice_a_1.wav"), "alice", true));
            jobs.add(submit(AUDIO.resolve("voice_a_2.wav"), "alice", true));
            jobs.add(submit(AUDIO.resolve("c07_5s_16000_pcm16_mono.wav"), "bob", true));
            jobs.add(submit(AUDIO.resolve("c06_4s_44100_pcm16_stereo.wav"), "carol", true));
            jobs.add(submit(corruptWav(scratch), "mallory", false));
            // a producer bug: the job id is not a UUID. SQS takes it; the worker must dead-letter it with a reason
            stack.aws().sqs().sendMessage(b -> b.queueUrl(stack.queues().queueUrl())
                    .messageBody("{\"job_id\":\"not-a-uuid\",\"voice_id\":\"poison\",\"s3_key\":\"uploads/x.wav\"}"));

            Map<String, String> finished = awaitRows(jobs, s -> s.equals("COMPLETED") || s.equals("FAILED"));
            for (Submitted job : jobs) {
                assertEquals(job.good() ? "COMPLETED" : "FAILED", finished.get(job.jobId()),
                        job.voice() + " " + job.file().getFileName());
            }
            // what status prints, for a completed and for the failed job (the rows were read above)
            checkStatus(jobs.get(0));
            checkStatus(jobs.get(jobs.size() - 1));
            checkSimilar();
            checkPoisonInDeadLetterQueue();

            WorkerRun.Stopped stopped = worker.stop();
            assertStoppedCleanly(stopped);
        }
        return jobs;
    }

    /**
     * SIGTERM while the worker has a backlog: it stops within its bound and cleanly; each job it had is COMPLETED
     * (never FAILED for being interrupted) or its message is back in the queue, and the next worker finishes them.
     * The backlog is larger than one SQS receive (10), so at the SIGTERM the worker has a batch in flight and
     * messages it has not taken.
     */
    void sigtermWithABacklogLosesNothing(Path scratch) {
        List<Submitted> backlog = submitTwoAtATime(IntStream.range(0, 12)
                .mapToObj(i -> new Upload(longRecording(scratch, i), "backlog-" + (i % 2))).toList());
        Map<String, String> atStop;
        try (WorkerRun worker = WorkerRun.start(stack, "worker-2")) {
            // SIGTERM as soon as the worker has taken one: a batch is then in flight
            awaitAnyRow(backlog, s -> !s.equals("PENDING"));
            WorkerRun.Stopped stopped = worker.stop();
            assertStoppedCleanly(stopped);
            atStop = rows(backlog);
        }
        JobInvariant.State state = assertInvariantHolds();
        long queued = backlog.stream().map(j -> UUID.fromString(j.jobId()))
                .filter(id -> state.inQueue().contains(id) || state.inDlq().contains(id)).count();
        System.out.println("black-box: SIGTERM with a backlog of " + backlog.size() + " jobs: rows at the stop "
                + count(atStop) + ", their messages back in the queue " + queued);
        assertFalse(atStop.containsValue("FAILED"), "a job interrupted by SIGTERM must not fail: " + atStop);

        try (WorkerRun next = WorkerRun.start(stack, "worker-3")) {
            Map<String, String> finished = awaitRows(backlog, s -> s.equals("COMPLETED") || s.equals("FAILED"));
            assertEquals(Map.of("COMPLETED", backlog.size()), count(finished), "the next worker finishes them all");
            assertStoppedCleanly(next.stop());
        }
    }

    /**
     * Completion events, read from outside with {@code ./timbre events --json --all-copies} on the SQS sink
     * (docs/architecture.md §13): every finished job of the run yields at least one event, all copies of an event are
     * identical, and a job deleted before a worker took it, or still unfinished, yields none.
     */
    void everyFinishedJobYieldsItsEventAndNoOtherDoes() {
        Submitted deleted = submit(AUDIO.resolve("voice_a_1.wav"), "deleted", false);
        execute(stack.db(), "UPDATE voice_processing_jobs SET is_deleted = true WHERE id = '" + deleted.jobId() + "'");
        try (WorkerRun worker = WorkerRun.start(stack, "worker-4")) {
            // the worker takes the deleted job and marks its row FAILED (docs/architecture.md §6), with no event
            awaitRows(List.of(deleted), s -> s.equals("FAILED"));
            assertStoppedCleanly(worker.stop());
        }
        // submitted after the last worker stopped: its message waits in the queue, the job is unfinished
        Submitted unfinished = submit(AUDIO.resolve("voice_a_2.wav"), "unfinished", true);

        Map<String, String> expected = new LinkedHashMap<>();
        JobInvariant.rows(stack.db()).values().stream()
                .filter(r -> !r.deleted() && (r.status() == JobStatus.COMPLETED || r.status() == JobStatus.FAILED))
                .forEach(r -> expected.put(r.id().toString(), r.status().name()));
        assertFalse(expected.isEmpty(), "the run finished jobs");

        Map<String, List<JsonNode>> copies = new LinkedHashMap<>();
        long deadline = System.nanoTime() + Duration.ofSeconds(90).toNanos();
        boolean quietRead = false;
        while (true) {
            Timbre.Result r = timbre.run(stack.env(), "events", "--json", "--all-copies");
            assertEquals(0, r.exit(), r.describe());
            for (String line : r.stdoutLines()) {
                JsonNode event = parse(line, r);
                copies.computeIfAbsent(event.path("id").asText(), k -> new ArrayList<>()).add(event);
            }
            Set<String> jobsWithEvents = new LinkedHashSet<>();
            copies.values().forEach(c -> jobsWithEvents.add(c.get(0).path("detail").path("job_id").asText()));
            if (jobsWithEvents.containsAll(expected.keySet())) {
                if (quietRead) {
                    break; // one more read after all arrived: late copies and stray events are counted too
                }
                quietRead = true;
            } else if (System.nanoTime() > deadline) {
                fail("events missing after 90 s: expected jobs " + expected.keySet() + ", events " + copies.keySet());
            }
        }

        int copyCount = 0;
        Map<String, String> eventJobs = new LinkedHashMap<>();
        for (Map.Entry<String, List<JsonNode>> e : copies.entrySet()) {
            JsonNode first = e.getValue().get(0);
            for (JsonNode copy : e.getValue()) {
                assertEquals(first, copy, "every copy of event " + e.getKey() + " is identical");
            }
            copyCount += e.getValue().size();
            JsonNode detail = first.path("detail");
            String job = detail.path("job_id").asText();
            assertEquals(null, eventJobs.put(job, detail.path("status").asText()), "one event id per job: " + job);
            assertEquals("timbre", first.path("source").asText());
            assertEquals(e.getKey(), detail.path("event_id").asText());
            assertEquals(detail.path("status").asText().equals("COMPLETED") ? "Voice Embedding Completed"
                    : "Voice Embedding Failed", first.path("detail-type").asText());
        }
        assertEquals(expected, eventJobs, "one event per finished job, with its final status, and no other");
        assertFalse(eventJobs.containsKey(deleted.jobId()), "a deleted job yields no event");
        assertFalse(eventJobs.containsKey(unfinished.jobId()), "an unfinished job yields no event");
        System.out.println("black-box: " + copies.size() + " distinct events for " + expected.size()
                + " finished jobs (" + copyCount + " messages); none for the deleted and the unfinished job");
    }

    private static void execute(DataSource db, String sql) {
        try (Connection c = db.getConnection(); java.sql.Statement s = c.createStatement()) {
            s.executeUpdate(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The invariant over every row the run created (none when migrate never ran). */
    void everyJobFinishedOrQueued() {
        if (!tableExists(stack.db(), "voice_processing_jobs")) {
            return;
        }
        JobInvariant.State state = assertInvariantHolds();
        System.out.println("black-box: job rows at the end " + count(rows(state)) + ", open but queued "
                + state.rows().values().stream().filter(r -> r.status() != JobStatus.COMPLETED
                        && r.status() != JobStatus.FAILED).count());
    }

    /**
     * The project's job lifecycle invariant ({@link JobInvariant}, docs/reliability.md), read from outside with no
     * worker running: every row COMPLETED or FAILED or its message in the jobs queue or the DLQ, and embedding
     * points only where they belong. A message a stopped worker left hidden is waited for (its visibility timeout).
     */
    private JobInvariant.State assertInvariantHolds() {
        JobInvariant.State state = JobInvariant.read(stack.db(), stack.aws().sqs(), stack.queues().queueUrl(),
                stack.queues().dlqUrl(), JobInvariant.postgresPoints(stack.db()), BlackBoxStack.VISIBILITY.plusSeconds(10));
        assertEquals(List.of(), JobInvariant.violations(state), "job lifecycle invariant; rows " + count(rows(state)));
        return state;
    }

    private static Map<String, String> rows(JobInvariant.State state) {
        Map<String, String> rows = new LinkedHashMap<>();
        state.rows().forEach((id, row) -> rows.put(id.toString(), row.status().name()));
        return rows;
    }

    /** A file to submit as a voice's recording. */
    record Upload(Path file, String voice) {
    }

    /** Two submits at a time, as two producers would: the backlog builds up faster than one JVM after another. */
    private List<Submitted> submitTwoAtATime(List<Upload> uploads) {
        ExecutorService producers = Executors.newFixedThreadPool(2);
        try {
            List<Future<Submitted>> submitted = new ArrayList<>();
            for (Upload u : uploads) {
                submitted.add(producers.submit(() -> submit(u.file(), u.voice(), true)));
            }
            List<Submitted> jobs = new ArrayList<>();
            for (Future<Submitted> f : submitted) {
                jobs.add(f.get());
            }
            return jobs;
        } catch (ExecutionException e) {
            throw e.getCause() instanceof AssertionError a ? a : new AssertionError(e.getCause());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        } finally {
            producers.shutdownNow();
        }
    }

    Submitted submit(Path file, String voice, boolean good, String... options) {
        List<String> args = new ArrayList<>(List.of("submit", file.toString(), "--voice", voice));
        args.addAll(List.of(options));
        Timbre.Result r = timbre.run(stack.env(), args.toArray(String[]::new));
        assertEquals(0, r.exit(), r.describe());
        List<String> lines = r.stdoutLines();
        assertEquals(1, lines.size(), "submit prints one JSON line: " + r.describe());
        JsonNode json = parse(lines.get(0), r);
        assertEquals(voice, json.path("voice_id").asText(), r.describe());
        assertTrue(json.path("s3_key").asText().startsWith("uploads/"), r.describe());
        String jobId = json.path("job_id").asText();
        assertTrue(jobId.matches("[0-9a-f-]{36}"), "a job id: " + r.describe());
        return new Submitted(jobId, voice, file, good);
    }

    /** A speech recording the get-se golden fixtures use (committed with the get-se chain). */
    static final Path SPEECH = Timbre.ROOT.resolve("infra/model/fixtures/get_se/g05_speech_22050.wav");

    /**
     * One recording embedded both ways through {@code submit --mode}, the worker and {@code status}, and
     * {@code similar --mode} keeping the two modes apart. The stack's TIMBRE_SE_MODE is extract-se, so the get-se
     * job also shows that the message's se_mode wins. Needs the get-se chain (VAD, split, mean) and its fixture.
     */
    void getSeAndExtractSeJobsAreEmbeddedAndSearchedApart() {
        assertTrue(Files.isRegularFile(SPEECH), "the get-se fixture " + SPEECH + " is missing");
        try (WorkerRun worker = WorkerRun.start(stack, "worker-modes")) {
            Submitted getSe = submit(SPEECH, "gina-get", true, "--mode", "get-se");
            Submitted extractSe = submit(SPEECH, "gina-extract", true, "--mode", "extract-se");
            Map<String, String> finished = awaitRows(List.of(getSe, extractSe),
                    s -> s.equals("COMPLETED") || s.equals("FAILED"));
            assertEquals("COMPLETED", finished.get(getSe.jobId()), "get-se job");
            assertEquals("COMPLETED", finished.get(extractSe.jobId()), "extract-se job");

            // status: the mode, and get-se's speech summary, on the row and in the result
            JsonNode getRow = status(getSe);
            assertEquals("get-se", getRow.path("se_mode").asText(), getRow.toString());
            assertEquals("get-se", getRow.path("result").path("se_mode").asText(), getRow.toString());
            JsonNode speech = getRow.path("speech");
            assertTrue(speech.path("segments_s").isArray() && speech.path("segments_s").size() > 0,
                    "speech segments: " + getRow);
            assertTrue(speech.path("kept_s").asDouble() > 0, getRow.toString());
            assertTrue(speech.path("split_s").size() > 0, getRow.toString());
            assertEquals(speech, getRow.path("result").path("speech"), getRow.toString());
            JsonNode extractRow = status(extractSe);
            assertEquals("extract-se", extractRow.path("se_mode").asText(), extractRow.toString());
            assertTrue(extractRow.path("speech").isNull(), extractRow.toString());

            // similar: the same recording in the other mode is never a neighbour
            Timbre.Result inGetSe = timbre.run(stack.env(), "similar", "gina-get", "--mode", "get-se",
                    "--include-self");
            assertEquals(0, inGetSe.exit(), inGetSe.describe());
            assertEquals(Set.of("gina-get"), voicesOf(inGetSe), "the only get-se voice: " + inGetSe.describe());
            Timbre.Result inExtractSe = timbre.run(stack.env(), "similar", "gina-extract", "--mode", "extract-se",
                    "--include-self", "--limit", "50");
            assertEquals(0, inExtractSe.exit(), inExtractSe.describe());
            Set<String> extractVoices = voicesOf(inExtractSe);
            assertTrue(extractVoices.contains("gina-extract") && !extractVoices.contains("gina-get"),
                    inExtractSe.describe());
            Timbre.Result otherMode = timbre.run(stack.env(), "similar", "gina-get", "--mode", "extract-se");
            assertEquals(3, otherMode.exit(), "gina-get has no extract-se embedding: " + otherMode.describe());

            assertStoppedCleanly(worker.stop());
        }

        // extract --mode get-se prints the speech summary with the embedding
        Timbre.Result extract = timbre.run(Map.of(), "extract", "--mode", "get-se", "--converter",
                Timbre.ROOT.resolve("infra/model/fixtures/converter").toString(), SPEECH.toString());
        assertEquals(0, extract.exit(), extract.describe());
        JsonNode line = parse(extract.stdoutLines().get(0), extract);
        assertEquals("get-se", line.path("se_mode").asText(), extract.describe());
        assertTrue(line.path("speech_segments_s").size() > 0 && line.path("speech_segments_s").get(0).size() == 2,
                extract.describe());
        assertTrue(line.path("kept_s").asDouble() > 0, extract.describe());
        assertTrue(line.path("split_s").size() > 0, extract.describe());
        assertEquals(256, line.path("embedding").size(), extract.describe());
    }

    private JsonNode status(Submitted job) {
        Timbre.Result r = timbre.run(stack.env(), "status", job.jobId());
        assertEquals(0, r.exit(), r.describe());
        return parse(String.join("\n", r.stdoutLines()), r);
    }

    private static Set<String> voicesOf(Timbre.Result r) {
        Set<String> voices = new LinkedHashSet<>();
        for (String line : r.stdoutLines()) {
            voices.add(parse(line, r).path("voice_id").asText());
        }
        return voices;
    }

    private void checkStatus(Submitted job) {
        Timbre.Result r = timbre.run(stack.env(), "status", job.jobId());
        assertEquals(0, r.exit(), r.describe());
        JsonNode row = parse(String.join("\n", r.stdoutLines()), r);
        assertEquals(job.jobId(), row.path("job_id").asText(), r.describe());
        assertEquals(job.voice(), row.path("voice_id").asText(), r.describe());
        if (job.good()) {
            assertEquals("COMPLETED", row.path("status").asText(), r.describe());
            assertTrue(row.path("result").isObject(), "a completed job has its result: " + r.describe());
            assertTrue(row.path("error").isNull(), r.describe());
        } else {
            assertEquals("FAILED", row.path("status").asText(), r.describe());
            String error = row.path("error").asText();
            assertFalse(error.isBlank(), "a failed job says why: " + r.describe());
            assertEquals(1, error.lines().count(), "the reason is one line: " + error);
        }
    }

    private void checkSimilar() {
        Timbre.Result r = timbre.run(stack.env(), "similar", "alice", "--limit", "5");
        assertEquals(0, r.exit(), r.describe());
        Set<String> voices = new LinkedHashSet<>();
        double previous = Double.POSITIVE_INFINITY;
        for (String line : r.stdoutLines()) {
            JsonNode n = parse(line, r);
            double score = n.path("score").asDouble(Double.NaN);
            assertTrue(score >= -1.0001 && score <= 1.0001, "a cosine: " + line);
            assertTrue(score <= previous, "best first: " + r.describe());
            previous = score;
            voices.add(n.path("voice_id").asText());
        }
        // mallory's only job failed, so mallory has no embedding; alice is the query
        assertEquals(Set.of("bob", "carol"), voices, r.describe());

        Timbre.Result self = timbre.run(stack.env(), "similar", "alice", "--include-self");
        assertEquals(0, self.exit(), self.describe());
        assertTrue(self.stdout().contains("\"alice\""), "--include-self lists the voice: " + self.describe());

        Timbre.Result none = timbre.run(stack.env(), "similar", "mallory");
        assertEquals(3, none.exit(), "a voice with no completed embedding is rejected input: " + none.describe());
        assertEquals("", none.stdout(), none.describe());
    }

    private void checkPoisonInDeadLetterQueue() {
        long deadline = System.nanoTime() + JOBS_TIMEOUT.toNanos();
        while (true) {
            List<Message> dead = QueuePeek.visible(stack.aws().sqs(), stack.queues().dlqUrl());
            if (!dead.isEmpty()) {
                assertEquals(1, dead.size(), "only the poison message is dead-lettered: " + dead);
                Message poison = dead.get(0);
                assertTrue(poison.body().contains("not-a-uuid"), poison.body());
                assertTrue(poison.messageAttributes().containsKey("timbre_poison_reason"),
                        "the DLQ says why: " + poison.messageAttributes());
                return;
            }
            if (System.nanoTime() > deadline) {
                fail("the poison message never reached the DLQ");
            }
            Waits.sleep(Duration.ofMillis(500));
        }
    }

    /** Exits within its bound, status 0 or 143 (the JVM's status after SIGTERM ran its shutdown hook), JSON logs, clean. */
    static void assertStoppedCleanly(WorkerRun.Stopped stopped) {
        assertTrue(stopped.exit() == 0 || stopped.exit() == 143, "SIGTERM: " + stopped.describe());
        List<JsonNode> events = stopped.events();
        JsonNode shutDown = events.stream()
                .filter(e -> e.path("formattedMessage").asText().startsWith("worker shut down"))
                .findFirst().orElse(null);
        assertTrue(shutDown != null, "the worker logs its shutdown: " + stopped.describe());
        assertTrue(shutDown.toString().matches(".*\"clean\"\\s*:\\s*\"?true.*"),
                "the shutdown was clean (within its bound): " + shutDown);
        assertTrue(events.stream().noneMatch(e -> e.path("level").asText().equals("ERROR")),
                "no errors in the worker's log: " + stopped.describe());
    }

    private Map<String, String> awaitRows(List<Submitted> jobs, Predicate<String> done) {
        long deadline = System.nanoTime() + JOBS_TIMEOUT.toNanos();
        while (true) {
            Map<String, String> rows = rows(jobs);
            if (rows.values().stream().allMatch(done)) {
                return rows;
            }
            if (System.nanoTime() > deadline) {
                fail("jobs did not finish within " + JOBS_TIMEOUT.toMinutes() + " min: " + rows);
            }
            Waits.sleep(Duration.ofMillis(200));
        }
    }

    private void awaitAnyRow(List<Submitted> jobs, Predicate<String> started) {
        long deadline = System.nanoTime() + JOBS_TIMEOUT.toNanos();
        while (rows(jobs).values().stream().noneMatch(started)) {
            if (System.nanoTime() > deadline) {
                fail("the worker took no job within " + JOBS_TIMEOUT.toMinutes() + " min");
            }
            Waits.sleep(Duration.ofMillis(20));
        }
    }

    private Map<String, String> rows(List<Submitted> jobs) {
        Map<String, String> all = new LinkedHashMap<>();
        JobInvariant.rows(stack.db()).forEach((id, row) -> all.put(id.toString(), row.status().name()));
        Map<String, String> ours = new LinkedHashMap<>();
        jobs.forEach(j -> ours.put(j.jobId(), all.getOrDefault(j.jobId(), "MISSING")));
        return ours;
    }

    private static Map<String, Integer> count(Map<String, String> rows) {
        Map<String, Integer> counts = new LinkedHashMap<>();
        rows.values().forEach(s -> counts.merge(s, 1, Integer::sum));
        return counts;
    }

    static JsonNode parse(String line, Timbre.Result r) {
        try {
            JsonNode node = JSON.readTree(line);
            assertTrue(node != null && node.isObject(), "a JSON object: " + line);
            return node;
        } catch (IOException e) {
            throw new AssertionError("stdout is not JSON (" + e.getMessage() + "): " + r.describe());
        }
    }

    /** A file that starts like a WAV and is noise after the header: decoding must fail, the job must end FAILED. */
    static Path corruptWav(Path scratch) {
        byte[] bytes = new byte[4096];
        new SplittableRandom(7).nextBytes(bytes);
        System.arraycopy("RIFF".getBytes(StandardCharsets.US_ASCII), 0, bytes, 0, 4);
        return write(scratch.resolve("corrupt.wav"), bytes);
    }

    /** Three seconds of digital silence: get-se's VAD keeps nothing of it. */
    static Path silentWav(Path scratch) {
        return write(scratch.resolve("silence_3s.wav"), WavWriter.pcm16(new float[3 * 22050], 22050));
    }

    /** A 30 s synthetic recording: a batch of them keeps a worker busy for a while. */
    private static Path longRecording(Path scratch, int i) {
        int rate = 22050;
        VoiceSpec voice = VoiceSpec.demoVoices()[i % 5];
        float[] samples = new VoiceSynth(rate).synthesize(voice, 30, 100 + i);
        return write(scratch.resolve("long-" + i + ".wav"), WavWriter.pcm16(samples, rate));
    }

    private static Path write(Path file, byte[] bytes) {
        try {
            return Files.write(file, bytes);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static boolean tableExists(DataSource db, String table) {
        try (Connection c = db.getConnection();
             ResultSet r = c.getMetaData().getTables(null, "public", table, null)) {
            return r.next();
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
    }
}
