package dev.timbre.lambda;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.serialization.PojoSerializer;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import dev.timbre.job.JobMessage;
import dev.timbre.job.JobMessageParser;
import dev.timbre.pipeline.QueueMessage;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** The committed sample events, read the way the Lambda runtime reads them, map to the pipeline's messages. */
class SqsEventRecordsTest {

    private static final PojoSerializer<SQSEvent> SERIALIZER =
            LambdaEventSerializers.serializerFor(SQSEvent.class, SqsEventRecordsTest.class.getClassLoader());

    private static SQSEvent read(String name) throws Exception {
        try (InputStream in = Files.newInputStream(Path.of("..", "infra", "events", name))) {
            return SERIALIZER.fromJson(in);
        }
    }

    @Test
    void standardQueueSampleMapsIdsBodiesAndAttributes() throws Exception {
        // given
        SQSEvent event = read("sqs-receive-message.json");

        // when
        List<QueueMessage> messages = SqsEventRecords.toQueueMessages(event);

        // then
        assertFalse(SqsEventRecords.isFifo(event));
        assertEquals(2, messages.size());
        QueueMessage first = messages.get(0);
        assertEquals("059f36b4-87a3-44ab-83d2-661975830a7d", first.messageId());
        assertEquals(1, first.receiveCount());
        assertEquals(Optional.of(Instant.ofEpochMilli(1764380400000L)), first.sentAt());
        assertEquals(Optional.empty(), first.messageGroupId());
        assertEquals(2, messages.get(1).receiveCount());

        JobMessage job = new JobMessageParser().parse(first.body());
        assertEquals(UUID.fromString("3f1c2b7e-6a0d-4c8e-9b51-2d7f0a9c4e11"), job.jobId());
        assertEquals("alice take 1.wav", job.metadata().get("filename"));
        assertEquals(Optional.of("timbre-uploads"), new JobMessageParser().parse(messages.get(1).body()).s3Bucket());
    }

    @Test
    void fifoSampleIsRecognisedAndCarriesMessageGroups() throws Exception {
        SQSEvent event = read("sqs-receive-message-fifo.json");

        List<QueueMessage> messages = SqsEventRecords.toQueueMessages(event);

        assertTrue(SqsEventRecords.isFifo(event));
        assertEquals(List.of(Optional.of("voice-alice"), Optional.of("voice-alice"), Optional.of("voice-bob")),
                messages.stream().map(QueueMessage::messageGroupId).toList());
    }

    @Test
    void recordWithoutAttributesStillMaps() {
        // hand-written events may omit attributes entirely (Powertools threw a NullPointerException there)
        SQSEvent.SQSMessage record = new SQSEvent.SQSMessage();
        record.setMessageId("m1");
        record.setBody("{}");
        SQSEvent event = new SQSEvent();
        event.setRecords(List.of(record));

        QueueMessage message = SqsEventRecords.toQueueMessages(event).get(0);

        assertEquals(1, message.receiveCount());
        assertEquals(Optional.empty(), message.messageGroupId());
        assertFalse(SqsEventRecords.isFifo(event));
    }
}
