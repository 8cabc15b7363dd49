package dev.timbre.ecs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.job.JobStore;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.local.EmbeddedS3;
import dev.timbre.local.EmbeddedSqs;
import dev.timbre.local.VoiceSpec;
import dev.timbre.local.VoiceSynth;
import dev.timbre.local.WavWriter;
import dev.timbre.testing.JobInvariant;
import dev.timbre.testing.TestDatabase;
import dev.timbre.testing.WorkerProcess;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * The ECS worker as a real separate process, killed with SIGKILL half-way through a queue of 100 jobs and
 * started again: every job ends COMPLETED and no embedding exists twice. The child reaches the servers of this
 * JVM over TCP (ElasticMQ, S3Proxy, Postgres; embeddings in the Postgres store).
 */
class EcsWorkerCrashRecoveryTest {

    private static final int JOBS = 100;
    private static final String BUCKET = "timbre-uploads";
    private static final Path CONVERTER = Path.of("..", "infra", "model", "fixtures", "converter").toAbsolutePath().normalize();

    @Test
    void drainsHundredJobsAcrossAKillAndARestartWithoutDuplicates() throws Exception {
        try (TestDatabase db = TestDatabase.create();
             EmbeddedS3 s3 = EmbeddedS3.start();
             EmbeddedSqs sqs = EmbeddedSqs.start();
             SqsClient sqsClient = sqs.newClient()) {
            // given: 100 submitted jobs (rows, audio, messages); a short visibility so a killed worker's
            // in-flight messages come back quickly
            s3.createBucket(BUCKET);
            EmbeddedSqs.QueuePair queues = sqs.createQueueWithDlq("jobs", 10, Duration.ofSeconds(4));
            JobStore jobs = new PostgresJobStore(db.dataSource());
            List<byte[]> clips = new ArrayList<>();
            VoiceSpec[] voices = VoiceSpec.demoVoices();
            for (int i = 0; i < voices.length; i++) {
                clips.add(WavWriter.pcm16(new VoiceSynth(22050).synthesize(voices[i], 1.0, i), 22050));
            }
            List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
            for (int i = 0; i < JOBS; i++) {
                UUID job = UUID.randomUUID();
                String voice = voices[i % voices.length].name();
                String key = "uploads/" + voice + "/" + job + ".wav";
                s3.put(BUCKET, key, clips.get(i % clips.size()));
                jobs.create(job, voice, key);
                entries.add(SendMessageBatchRequestEntry.builder().id("e" + i)
                        .messageBody("{\"job_id\":\"" + job + "\",\"voice_id\":\"" + voice + "\",\"s3_key\":\"" + key + "\"}")
                        .build());
                if (entries.size() == 10) {
                    List<SendMessageBatchRequestEntry> batch = List.copyOf(entries);
                    sqsClient.sendMessageBatch(b -> b.queueUrl(queues.queueUrl()).entries(batch));
                    entries.clear();
                }
            }
            Map<String, String> env = new HashMap<>();
            env.putAll(db.env());
            env.putAll(s3.env());
            env.putAll(sqs.env());
            env.put("TIMBRE_S3_BUCKET", BUCKET);
            env.put("TIMBRE_QUEUE_URL", queues.queueUrl());
            env.put("TIMBRE_DLQ_URL", queues.dlqUrl());
            env.put("TIMBRE_CONVERTER_DIR", CONVERTER.toString());
            env.put("TIMBRE_WORKER_THREADS", "2");
            env.put("TIMBRE_SE_MODE", "extract-se"); // synthetic clips, not speech
            env.put("TIMBRE_LOG_FORMAT", "json");

            // when: a worker runs until a third of the jobs are done, and is killed with SIGKILL
            Process first = startWorker(env, "first");
            awaitCompleted(db, JOBS / 3, Duration.ofSeconds(120), first);
            first.destroyForcibly();
            assertTrue(first.waitFor(30, TimeUnit.SECONDS), "killed worker exited");
            int completedAtKill = completed(db);
            assertTrue(completedAtKill < JOBS, "the kill happened with work left: " + completedAtKill);

            // and a new worker is started
            Process second = startWorker(env, "second");
            try {
                awaitCompleted(db, JOBS, Duration.ofSeconds(240), second);
            } finally {
                // SIGTERM: the graceful path
                second.destroy();
                assertTrue(second.waitFor(60, TimeUnit.SECONDS), "worker stopped on SIGTERM");
            }

            // then: all 100 COMPLETED, one embedding per job, nothing left in the queues
            assertEquals(JOBS, completed(db));
            assertEquals(JOBS, count(db, "SELECT count(*) FROM voice_embeddings"));
            assertEquals(JOBS, count(db, "SELECT count(DISTINCT point_id) FROM voice_embeddings"));
            assertEquals(0, count(db, "SELECT count(*) FROM voice_embeddings e LEFT JOIN voice_processing_jobs j"
                    + " ON j.id = e.point_id WHERE j.id IS NULL OR j.voice_id <> e.voice_id"), "points match their jobs");
            assertEquals("0", sqsClient.getQueueAttributes(b -> b.queueUrl(queues.dlqUrl())
                    .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES)).attributes()
                    .get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES), "nothing dead-lettered");
            JobInvariant.State state = JobInvariant.read(db.dataSource(), sqsClient, queues.queueUrl(),
                    queues.dlqUrl(), JobInvariant.postgresPoints(db.dataSource()), Duration.ofSeconds(10));
            assertEquals(List.of(), JobInvariant.violations(state), "the job lifecycle invariant");
            assertEquals(List.of(), JobInvariant.finished(state), "every job finished, points of COMPLETED jobs only");
        }
    }

    private static Process startWorker(Map<String, String> env, String name) throws Exception {
        Path log = Files.createTempFile("ecs-worker-" + name + "-", ".log");
        Process p = WorkerProcess.start(env, log, 4, "-Xmx1g");
        System.out.println("worker " + name + " pid " + p.pid() + " logs to " + log);
        return p;
    }

    /** Polls the job table until {@code n} jobs are COMPLETED; fails early if the worker died. */
    private static void awaitCompleted(TestDatabase db, int n, Duration timeout, Process worker) throws Exception {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (completed(db) < n) {
            if (!worker.isAlive()) {
                throw new AssertionError("worker exited with " + worker.exitValue() + " after " + completed(db) + " jobs");
            }
            if (System.nanoTime() > deadline) {
                throw new AssertionError("only " + completed(db) + " of " + n + " jobs completed within " + timeout);
            }
            worker.waitFor(100, TimeUnit.MILLISECONDS); // returns early if the worker dies
        }
    }

    private static int completed(TestDatabase db) throws Exception {
        return count(db, "SELECT count(*) FROM voice_processing_jobs WHERE status = 'COMPLETED'");
    }

    private static int count(TestDatabase db, String sql) throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
