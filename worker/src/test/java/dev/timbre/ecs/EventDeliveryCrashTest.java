package dev.timbre.ecs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.job.JobStore;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.local.EmbeddedS3;
import dev.timbre.local.EmbeddedSqs;
import dev.timbre.local.VoiceSpec;
import dev.timbre.local.VoiceSynth;
import dev.timbre.local.WavWriter;
import dev.timbre.notify.JobEvents;
import dev.timbre.testing.TestDatabase;
import dev.timbre.testing.WorkerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * A completion event survives {@code kill -9} of the worker between the commit of the job's transition and the
 * publication of its event (docs/architecture.md §13): the first worker (a real child process) sweeps its outbox only
 * once an hour, so every job it finishes has its event committed and not published when it is killed with SIGKILL;
 * a second worker publishes them all.
 */
class EventDeliveryCrashTest {

    private static final int JOBS = 6;
    private static final String BUCKET = "timbre-uploads";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Path CONVERTER = Path.of("..", "infra", "model", "fixtures", "converter").toAbsolutePath()
            .normalize();

    @Test
    void eventsCommittedByAKilledWorkerArePublishedByTheNextOne() throws Exception {
        try (TestDatabase db = TestDatabase.create();
             EmbeddedS3 s3 = EmbeddedS3.start();
             EmbeddedSqs sqs = EmbeddedSqs.start();
             SqsClient sqsClient = sqs.newClient()) {
            s3.createBucket(BUCKET);
            EmbeddedSqs.QueuePair queues = sqs.createQueueWithDlq("jobs", 10, Duration.ofSeconds(4));
            String eventsQueue = sqs.createQueue("events", Duration.ofSeconds(30));
            JobStore jobs = new PostgresJobStore(db.dataSource());
            Set<UUID> expected = new HashSet<>();
            VoiceSpec[] voices = VoiceSpec.demoVoices();
            for (int i = 0; i < JOBS; i++) {
                UUID job = UUID.randomUUID();
                String voice = voices[i % voices.length].name();
                String key = "uploads/" + job + ".wav";
                // the last job's audio is not audio: one Failed event among the Completed ones
                byte[] bytes = i == JOBS - 1 ? "not audio at all".getBytes(java.nio.charset.StandardCharsets.UTF_8)
                        : WavWriter.pcm16(new VoiceSynth(22050).synthesize(voices[i % voices.length], 1.0, i), 22050);
                s3.put(BUCKET, key, bytes);
                jobs.create(job, voice, key);
                sqsClient.sendMessage(b -> b.queueUrl(queues.queueUrl()).messageBody(
                        "{\"job_id\":\"" + job + "\",\"voice_id\":\"" + voice + "\",\"s3_key\":\"" + key + "\"}"));
                expected.add(JobEvents.eventId(job, i == JOBS - 1 ? "FAILED" : "COMPLETED"));
            }
            Map<String, String> env = new HashMap<>();
            env.putAll(db.env());
            env.putAll(s3.env());
            env.putAll(sqs.env());
            env.put("TIMBRE_S3_BUCKET", BUCKET);
            env.put("TIMBRE_QUEUE_URL", queues.queueUrl());
            env.put("TIMBRE_DLQ_URL", queues.dlqUrl());
            env.put("TIMBRE_EVENTS_QUEUE_URL", eventsQueue);
            env.put("TIMBRE_CONVERTER_DIR", CONVERTER.toString());
            env.put("TIMBRE_WORKER_THREADS", "2");
            env.put("TIMBRE_SE_MODE", "extract-se"); // synthetic clips, not speech
            env.put("TIMBRE_LOG_FORMAT", "json");

            // when: the first worker finishes every job but publishes nothing (its sweep is an hour away) ...
            Map<String, String> slowSweep = new HashMap<>(env);
            slowSweep.put("TIMBRE_EVENTS_SWEEP_MS", Long.toString(Duration.ofHours(1).toMillis()));
            Process first = start(slowSweep, "first");
            long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
            while (count(db, "SELECT count(*) FROM voice_processing_jobs WHERE status IN ('COMPLETED', 'FAILED')")
                    < JOBS) {
                assertTrue(first.isAlive(), "the first worker died on its own");
                assertTrue(System.nanoTime() < deadline, "the first worker did not finish the jobs in time");
                first.waitFor(100, TimeUnit.MILLISECONDS);
            }
            // ... and is killed with SIGKILL: its transitions committed, their events not published
            first.destroyForcibly();
            assertTrue(first.waitFor(30, TimeUnit.SECONDS));
            assertEquals(JOBS, count(db, "SELECT count(*) FROM job_events WHERE published_at IS NULL"));
            assertEquals(List.of(), receive(sqsClient, eventsQueue, Duration.ofSeconds(1)), "nothing was published");

            // then: the next worker publishes every one of them
            Process second = start(env, "second");
            Map<UUID, Integer> copies = new HashMap<>();
            try {
                deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (!copies.keySet().containsAll(expected) && System.nanoTime() < deadline) {
                    assertTrue(second.isAlive(), "the second worker died");
                    for (JsonNode event : receive(sqsClient, eventsQueue, Duration.ofSeconds(1))) {
                        copies.merge(UUID.fromString(event.path("id").asText()), 1, Integer::sum);
                    }
                }
            } finally {
                second.destroy();
                assertTrue(second.waitFor(60, TimeUnit.SECONDS), "worker stopped on SIGTERM");
            }
            assertEquals(expected, copies.keySet(), "one event per finished job, and no other");
            assertEquals(0, count(db, "SELECT count(*) FROM job_events WHERE published_at IS NULL"));
        }
    }

    private static Process start(Map<String, String> env, String name) throws Exception {
        Path log = Files.createTempFile("event-crash-worker-" + name + "-", ".log");
        Process p = WorkerProcess.start(env, log, 4, "-Xmx512m");
        System.out.println("worker " + name + " pid " + p.pid() + " logs to " + log);
        return p;
    }

    private static List<JsonNode> receive(SqsClient sqs, String queue, Duration wait) throws Exception {
        List<JsonNode> events = new java.util.ArrayList<>();
        for (Message m : sqs.receiveMessage(b -> b.queueUrl(queue).maxNumberOfMessages(10)
                .waitTimeSeconds((int) wait.toSeconds())).messages()) {
            events.add(JSON.readTree(m.body()));
            sqs.deleteMessage(b -> b.queueUrl(queue).receiptHandle(m.receiptHandle()));
        }
        return events;
    }

    private static int count(TestDatabase db, String sql) throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
