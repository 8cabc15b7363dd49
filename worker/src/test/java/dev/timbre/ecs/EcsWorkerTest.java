package dev.timbre.ecs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.common.health.Health;
import dev.timbre.common.health.HealthServer;
import dev.timbre.job.JobStatus;
import dev.timbre.pipeline.PipelineHarness;
import dev.timbre.pipeline.RecordingEmbedder;
import dev.timbre.pipeline.ToneColorEmbedder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/** The ECS poll loop in this JVM, against ElasticMQ, with the real pipeline behind it. */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class EcsWorkerTest {

    private PipelineHarness harness;

    @BeforeAll
    void start() {
        harness = PipelineHarness.start();
    }

    @AfterAll
    void stop() {
        harness.close();
    }

    private String send(String queueUrl, String body) {
        return harness.sqsClient.sendMessage(b -> b.queueUrl(queueUrl).messageBody(body)).messageId();
    }

    private String approximateMessages(String queueUrl, QueueAttributeName attribute) {
        return harness.sqsClient.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(attribute))
                .attributes().get(attribute);
    }

    @Test
    void drainsTheQueueDeletesWhatSucceededAndDeadLettersPoison() throws Exception {
        // given
        String queue = harness.sqs.createQueue("ecs-drain-" + UUID.randomUUID().toString().substring(0, 8), Duration.ofSeconds(30));
        UUID a = harness.submit("voice-ecs", PipelineHarness.voiceWav(400, 1.0));
        UUID b = harness.submit("voice-ecs", PipelineHarness.voiceWav(401, 1.0));
        send(queue, PipelineHarness.body(a, "voice-ecs"));
        send(queue, PipelineHarness.body(b, "voice-ecs"));
        send(queue, "{\"voice_id\":\"no job id\"}");
        EcsWorker worker = new EcsWorker(harness.sqsClient, queue,
                harness.batches(harness.pool(2), new ToneColorEmbedder(PipelineHarness.extractor()), 5),
                harness.metrics, new EcsWorker.Settings(10, Duration.ofSeconds(1), Duration.ofSeconds(30),
                Duration.ofSeconds(10), Duration.ofMinutes(1)), Clock.systemUTC());
        Thread loop = new Thread(worker, "ecs-test-loop");

        try (HealthServer health = HealthServer.start(0, "health-test", () -> Health.of(worker.healthy()))) {
            // when
            loop.start();
            long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
            while (!(harness.job(a).status() == JobStatus.COMPLETED && harness.job(b).status() == JobStatus.COMPLETED
                    && "0".equals(approximateMessages(queue, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
                    && "0".equals(approximateMessages(queue, QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)))) {
                assertTrue(System.nanoTime() < deadline, "queue drained within 60 s");
                loop.join(50);
            }
            int healthWhileRunning = status(health);
            boolean clean = worker.shutdown(Duration.ofSeconds(5));
            int healthAfterStop = status(health);

            // then: both jobs done and deleted, the poison message in the DLQ, health followed the worker
            assertTrue(clean);
            assertEquals(1, harness.drainDlq().size());
            assertEquals(200, healthWhileRunning);
            assertEquals(503, healthAfterStop);
        } finally {
            worker.shutdown(Duration.ofSeconds(5));
            loop.join(TimeUnit.SECONDS.toMillis(10));
        }
    }

    @Test
    void heartbeatKeepsALongJobHiddenAndShutdownReleasesWhatIsUnfinished() throws Exception {
        // given: one job held back far longer than its 2 s visibility timeout
        String queue = harness.sqs.createQueue("ecs-heartbeat-" + UUID.randomUUID().toString().substring(0, 8),
                Duration.ofSeconds(2));
        byte[] slowAudio = PipelineHarness.voiceWav(402, 1.0);
        UUID slow = harness.submit("voice-slow", slowAudio);
        String messageId = send(queue, PipelineHarness.body(slow, "voice-slow"));
        RecordingEmbedder embedder = new RecordingEmbedder(PipelineHarness.extractor());
        embedder.holdBack(slowAudio);
        EcsWorker worker = new EcsWorker(harness.sqsClient, queue, harness.batches(harness.pool(1), embedder, 5),
                harness.metrics, new EcsWorker.Settings(10, Duration.ofSeconds(1), Duration.ofSeconds(2),
                Duration.ofMillis(500), Duration.ofMinutes(5)), Clock.systemUTC());
        Thread loop = new Thread(worker, "ecs-test-loop");
        loop.start();
        try {
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (harness.job(slow).status() != JobStatus.PROCESSING) {
                assertTrue(System.nanoTime() < deadline, "job picked up");
                loop.join(20);
            }

            // when: three visibility timeouts pass while the job runs
            List<Message> stolen = harness.sqsClient.receiveMessage(r -> r.queueUrl(queue).waitTimeSeconds(6)
                    .maxNumberOfMessages(10)).messages();

            // then: nobody else could receive it
            assertEquals(List.of(), stolen, "the heartbeat kept the running job's message hidden");

            // when: the worker is stopped with a short bound while the job is still held back
            boolean clean = worker.shutdown(Duration.ofMillis(300));

            // then: the message was released at once (visible again long before any timeout would allow)
            assertTrue(clean, "loop ended after the interrupt");
            List<Message> released = harness.sqsClient.receiveMessage(r -> r.queueUrl(queue).waitTimeSeconds(1)
                    .maxNumberOfMessages(10).visibilityTimeout(30)
                    .messageSystemAttributeNames(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT)).messages();
            assertEquals(1, released.size());
            assertEquals(messageId, released.get(0).messageId());
            assertEquals("2", released.get(0).attributes().get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT));
        } finally {
            embedder.releaseAll();
            worker.shutdown(Duration.ofSeconds(5));
            loop.join(TimeUnit.SECONDS.toMillis(10));
        }
    }

    @Test
    void healthTurnsRedWhileAJobHangsPastTheBatchBoundAndGreenWhenItEnds() throws Exception {
        // given a worker whose batches may take 2 s, and a job whose extraction blocks (as a hung native call would)
        String queue = harness.sqs.createQueue("ecs-hang-" + UUID.randomUUID().toString().substring(0, 8),
                Duration.ofSeconds(30));
        byte[] hangingAudio = PipelineHarness.voiceWav(403, 1.0);
        UUID hung = harness.submit("voice-hang", hangingAudio);
        RecordingEmbedder embedder = new RecordingEmbedder(PipelineHarness.extractor());
        embedder.holdBack(hangingAudio);
        EcsWorker worker = new EcsWorker(harness.sqsClient, queue, harness.batches(harness.pool(1), embedder, 50),
                harness.metrics, new EcsWorker.Settings(10, Duration.ofSeconds(1), Duration.ofSeconds(30),
                Duration.ofSeconds(10), Duration.ofSeconds(2)), Clock.systemUTC());
        Thread loop = new Thread(worker, "ecs-test-loop");
        try (HealthServer health = HealthServer.start(0, "health-test", () -> Health.of(worker.healthy()))) {
            loop.start();
            awaitStatus(health, 200, "polling, nothing running");

            // when the job hangs past the bound: the batch gives up on it, the loop polls on, the thread stays stuck
            send(queue, PipelineHarness.body(hung, "voice-hang"));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while (harness.job(hung).status() != JobStatus.PROCESSING) {
                assertTrue(System.nanoTime() < deadline, "job picked up");
                loop.join(20);
            }

            // then /healthz answers 503 (ECS replaces the task) while it hangs, and 200 again once it ended
            awaitStatus(health, 503, "a job hangs longer than the batch bound");
            embedder.releaseAll();
            awaitStatus(health, 200, "the job ended");
        } finally {
            embedder.releaseAll();
            worker.shutdown(Duration.ofSeconds(5));
            loop.join(TimeUnit.SECONDS.toMillis(10));
        }
    }

    private static void awaitStatus(HealthServer health, int expected, String what) throws Exception {
        long deadline = System.nanoTime() + Duration.ofSeconds(45).toNanos();
        int last = -1;
        while (System.nanoTime() < deadline) {
            last = status(health);
            if (last == expected) {
                return;
            }
            Thread.sleep(100);
        }
        assertEquals(expected, last, what);
    }

    private static int status(HealthServer health) throws Exception {
        HttpResponse<String> response = HttpClient.newHttpClient().send(
                HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + health.port() + "/healthz")).build(),
                HttpResponse.BodyHandlers.ofString());
        return response.statusCode();
    }
}
