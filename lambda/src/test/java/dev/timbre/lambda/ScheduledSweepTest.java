package dev.timbre.lambda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.serialization.PojoSerializer;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.job.JobStore.PickUp;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.local.EmbeddedSqs;
import dev.timbre.local.LocalContext;
import dev.timbre.notify.EventOutbox;
import dev.timbre.notify.JobEvents;
import dev.timbre.notify.OutboxPublisher;
import dev.timbre.notify.SqsEventSink;
import dev.timbre.pipeline.BatchProcessor;
import dev.timbre.pipeline.PipelineMetrics;
import dev.timbre.pipeline.WorkerPool;
import dev.timbre.testing.TestDatabase;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The schedule's invocation (template.yaml, OutboxSweep): the committed empty batch, read the way the Lambda runtime
 * reads it, publishes the completion events an earlier environment committed but never published, and reports no
 * failures. Real Postgres outbox, real SQS sink (ElasticMQ).
 */
class ScheduledSweepTest {

    private static final PojoSerializer<SQSEvent> SERIALIZER =
            LambdaEventSerializers.serializerFor(SQSEvent.class, ScheduledSweepTest.class.getClassLoader());

    @Test
    void theScheduledEmptyBatchPublishesWhatACrashedEnvironmentLeftInTheOutbox() throws Exception {
        ByteArrayOutputStream metricsOut = new ByteArrayOutputStream();
        PipelineMetrics metrics = new PipelineMetrics(new PrintStream(metricsOut, true, StandardCharsets.UTF_8),
                "Timbre", "test", Clock.systemUTC());
        try (TestDatabase db = TestDatabase.create();
             EmbeddedSqs sqs = EmbeddedSqs.start();
             SqsClient client = sqs.newClient();
             WorkerPool pool = new WorkerPool(1)) {
            String queue = sqs.createQueue("timbre-events", Duration.ofSeconds(30));
            // given: a job finished by an environment that died before it published the event
            PostgresJobStore jobs = new PostgresJobStore(db.dataSource());
            UUID job = UUID.randomUUID();
            jobs.create(job, "voice-idle", "uploads/" + job + ".wav");
            assertEquals(PickUp.STARTED, jobs.pickUp(job));
            assertTrue(jobs.complete(job, "{\"model\":\"m\",\"embedding\":{\"collection\":\"c\",\"point_id\":\"p\"},"
                    + "\"audio\":{\"duration_s\":1.0}}"));
            OutboxPublisher publisher = new OutboxPublisher(new EventOutbox(db.dataSource()),
                    new SqsEventSink(client, queue), metrics);
            // an empty batch reaches none of the job machinery: only the pool and the metrics are real here
            BatchProcessor batches = new BatchProcessor(pool, null, null, null, metrics, Clock.systemUTC());
            VoiceEmbeddingHandler handler = new VoiceEmbeddingHandler(batches, metrics, Duration.ofSeconds(5),
                    Clock.systemUTC(), Optional.of(publisher));
            SQSEvent scheduled;
            try (InputStream in = Files.newInputStream(Path.of("..", "infra", "events", "outbox-sweep.json"))) {
                scheduled = SERIALIZER.fromJson(in);
            }

            // when
            SQSBatchResponse response = handler.handleRequest(scheduled, new LocalContext("timbre", 60_000, 3008));

            // then
            assertEquals(List.of(), response.getBatchItemFailures());
            List<Message> received = client.receiveMessage(r -> r.queueUrl(queue).maxNumberOfMessages(10)
                    .waitTimeSeconds(2)).messages();
            assertEquals(1, received.size(), "the one event left behind: " + received);
            JsonNode event = new ObjectMapper().readTree(received.get(0).body());
            assertEquals(job.toString(), event.path("detail").path("job_id").asText(), event.toString());
            assertEquals(JobEvents.eventId(job, "COMPLETED").toString(), event.path("id").asText(), event.toString());
            assertTrue(new EventOutbox(db.dataSource()).oldestUnpublishedAge().isEmpty(), "the outbox is drained");
        }
    }
}
