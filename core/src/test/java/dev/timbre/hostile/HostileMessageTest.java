package dev.timbre.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.job.JobMessage;
import dev.timbre.job.JobMessageParser;
import dev.timbre.job.JobRecord;
import dev.timbre.job.JobStatus;
import dev.timbre.job.PoisonMessageException;
import dev.timbre.pipeline.BatchOutcome;
import dev.timbre.pipeline.BatchProcessor;
import dev.timbre.pipeline.DeadLetterQueue;
import dev.timbre.pipeline.Disposition;
import dev.timbre.pipeline.PipelineHarness;
import dev.timbre.pipeline.QueueMessage;
import dev.timbre.pipeline.RecordOutcome;
import dev.timbre.pipeline.ToneColorEmbedder;
import dev.timbre.testing.FakeQdrant;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * Every message of the hostile corpus ends in its documented class (docs/architecture.md §6), first at the parser (both the
 * RabbitMQ byte path and the SQS text path) and then through the real {@link BatchProcessor} against Postgres,
 * S3Proxy, ElasticMQ (DLQ) and the in-process Qdrant, with the real extractor.
 *
 * <p>Decisions recorded here (and in {@code docs/security.md}): {@code s3_key} is an S3 object key, never a
 * path, so a message with {@code ../../etc/hostname} or {@code /etc/hostname} as key is a valid message (both are
 * legal S3 keys), never poison. The key is only ever sent to S3 and nothing is read from the worker's disk. A key
 * with a {@code .} or {@code ..} segment is refused by {@link dev.timbre.source.S3AudioSource} before any request
 * (permanent): S3Proxy resolved {@code uploads/v/../secret.wav} to {@code uploads/secret.wav} and served another
 * object ({@link ThroughTheBatchProcessor#dotSegmentsInAKeyNeverReachAnotherObject}). {@code metadata.filename}
 * is informational only. SQL meta-characters are stored verbatim (every statement binds its parameters).
 */
class HostileMessageTest {
    private static final Duration PER_MESSAGE = Duration.ofSeconds(5);
    private static final ObjectMapper JSON = new ObjectMapper();

    static List<HostileCorpus.Case> corpus() throws IOException {
        return HostileCorpus.readManifest(HostileCorpus.ROOT.resolve("messages"));
    }

    @Nested
    class AtTheParser {
        private final JobMessageParser parser = new JobMessageParser();

        @TestFactory
        Stream<DynamicTest> everyMessageEndsInItsDocumentedClass() throws IOException {
            return corpus().stream().map(c -> DynamicTest.dynamicTest(c.file() + " -> " + c.expected(),
                    () -> assertTimeoutPreemptively(PER_MESSAGE, () -> check(c))));
        }

        private void check(HostileCorpus.Case c) {
            Optional<String> text = utf8(c.bytes());
            if (c.expected().equals("poison")) {
                PoisonMessageException fromBytes = assertThrows(PoisonMessageException.class,
                        () -> parser.parse(c.bytes()), c.file() + " (" + c.why() + ") must be poison");
                assertReason(c, fromBytes.getMessage());
                // the SQS path gets the same body as text (SQS bodies are always valid Unicode)
                text.ifPresent(body -> assertEquals(fromBytes.getMessage(),
                        assertThrows(PoisonMessageException.class, () -> parser.parse(body)).getMessage(),
                        c.file() + ": same reason on the SQS (text) path"));
            } else {
                JobMessage fromBytes = parser.parse(c.bytes());
                assertEquals(fromBytes, parser.parse(text.orElseThrow()), c.file() + ": both paths agree");
                assertEquals(UUID.fromString(HostileCorpus.OK_ID), fromBytes.jobId());
            }
        }
    }

    private static void assertReason(HostileCorpus.Case c, String reason) {
        assertTrue(reason.contains(c.error()),
                c.file() + ": expected a reason containing \"" + c.error() + "\", was \"" + reason + "\"");
        assertFalse(reason.contains("\n") || reason.contains("\r"), c.file() + ": reason is not one line");
        // a reason is a DLQ message attribute and a log field: never the whole (hostile) body
        assertTrue(reason.length() <= 400, c.file() + ": reason of " + reason.length() + " chars");
    }

    /** The bytes as text when they are valid UTF-8 (what an SQS body can hold), else empty. */
    static Optional<String> utf8(byte[] bytes) {
        try {
            return Optional.of(StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString());
        } catch (CharacterCodingException e) {
            return Optional.empty();
        }
    }

    @Nested
    @TestInstance(TestInstance.Lifecycle.PER_CLASS)
    class ThroughTheBatchProcessor {
        private PipelineHarness harness;
        private BatchProcessor batches;
        private final UUID jobId = UUID.fromString(HostileCorpus.OK_ID);

        @BeforeAll
        void start() {
            harness = PipelineHarness.start();
            batches = harness.batches(harness.pool(2), new ToneColorEmbedder(PipelineHarness.extractor()), 5);
        }

        @AfterAll
        void stop() {
            if (harness != null) {
                harness.close();
            }
        }

        @TestFactory
        Stream<DynamicTest> everyDeliverableMessageEndsInItsDocumentedClass() throws IOException {
            // Invalid UTF-8 cannot be an SQS body; bodies over 256 KiB cannot be delivered by SQS either
            return corpus().stream()
                    .filter(c -> utf8(c.bytes()).isPresent() && c.bytes().length <= JobMessageParser.MAX_BODY_BYTES)
                    .map(c -> DynamicTest.dynamicTest(c.file() + " -> " + c.expected(),
                            () -> assertTimeoutPreemptively(Duration.ofSeconds(30), () -> run(c))));
        }

        private void run(HostileCorpus.Case c) throws SQLException {
            // given: a fresh PENDING row for the corpus' job id; audio under the key of the valid ones
            String body = utf8(c.bytes()).orElseThrow();
            deleteRow();
            JobMessage parsed = null;
            if (!c.expected().equals("poison")) {
                parsed = new JobMessageParser().parse(body);
                harness.jobs.create(jobId, parsed.voiceId(), parsed.s3Key());
                if (c.expected().equals("ok")) {
                    harness.s3.put(PipelineHarness.BUCKET, parsed.s3Key(), PipelineHarness.voiceWav(7, 1.0));
                }
            }
            String messageId = "m-" + c.file();

            // when
            BatchOutcome outcome = batches.process(List.of(new QueueMessage(messageId, body, 1, Optional.empty(),
                    Optional.empty())), false, Instant.now().plusSeconds(25));
            RecordOutcome record = outcome.outcomes().get(0);

            // then
            switch (c.expected()) {
                case "poison" -> {
                    assertEquals(Disposition.DEAD_LETTERED, record.disposition(), c.file() + ": " + record.detail());
                    List<Message> dead = harness.drainDlq();
                    assertEquals(1, dead.size(), c.file() + ": one message in the DLQ");
                    // SQS refuses empty bodies: the DLQ marks them instead
                    assertEquals(body.isEmpty() ? "(empty body)" : body, dead.get(0).body(),
                            c.file() + ": the DLQ keeps the body as delivered");
                    String reason = dead.get(0).messageAttributes().get(DeadLetterQueue.REASON_ATTRIBUTE).stringValue();
                    assertReason(c, reason);
                }
                case "ok" -> {
                    assertEquals(Disposition.COMPLETED, record.disposition(), c.file() + ": " + record.detail());
                    JobRecord row = harness.job(jobId);
                    assertEquals(JobStatus.COMPLETED, row.status());
                    assertEquals(parsed.voiceId(), row.voiceId(), "voice_id stored verbatim");
                    JsonNode result = readJson(row.resultJson());
                    assertEquals(parsed.voiceId(), result.get("voice_id").asText(), "result voice_id verbatim");
                    FakeQdrant.StoredPoint point = harness.qdrant.point(PipelineHarness.COLLECTION, jobId).orElseThrow();
                    assertEquals(Optional.of(parsed.voiceId()), point.string("voice_id"), "payload voice_id verbatim");
                    assertTrue(tableExists(), "voice_processing_jobs survived");
                }
                case "permanent" -> {
                    assertEquals(Disposition.FAILED, record.disposition(), c.file() + ": " + record.detail());
                    JobRecord row = harness.job(jobId);
                    assertEquals(JobStatus.FAILED, row.status());
                    assertTrue(row.error().contains(c.error()),
                            c.file() + ": expected an error containing \"" + c.error() + "\", was \"" + row.error() + "\"");
                    assertFalse(row.error().contains("\n"), "one-line error");
                }
                default -> throw new AssertionError("unknown class " + c.expected());
            }
            assertTrue(harness.drainDlq().isEmpty(), c.file() + ": nothing else in the DLQ");
        }

        @Test
        void dotSegmentsInAKeyNeverReachAnotherObject() throws SQLException {
            // given: a readable object next to the prefix the message names, and no object under the literal key
            UUID id = UUID.randomUUID();
            harness.s3.put(PipelineHarness.BUCKET, "uploads/secret.wav", PipelineHarness.voiceWav(3, 1.0));
            String key = "uploads/v/../secret.wav";
            harness.jobs.create(id, "v", key);
            String body = HostileCorpus.bodyWithId(id.toString(), "v", key);

            // when
            RecordOutcome record = batches.process(List.of(new QueueMessage("m-dots", body, 1, Optional.empty(),
                    Optional.empty())), false, Instant.now().plusSeconds(25)).outcomes().get(0);

            // then: the key is not normalised on the way (by us or the SDK): the other object is not read
            assertEquals(Disposition.FAILED, record.disposition(), record.detail());
            assertTrue(harness.job(id).error().contains("path segment"), harness.job(id).error());
            assertFalse(harness.qdrant.point(PipelineHarness.COLLECTION, id).isPresent(), "no embedding stored");
        }

        private void deleteRow() throws SQLException {
            try (Connection c = harness.db.dataSource().getConnection();
                 PreparedStatement s = c.prepareStatement("DELETE FROM voice_processing_jobs WHERE id = ?")) {
                s.setObject(1, jobId);
                s.executeUpdate();
            }
        }

        private boolean tableExists() throws SQLException {
            try (Connection c = harness.db.dataSource().getConnection();
                 ResultSet r = c.createStatement().executeQuery("SELECT to_regclass('voice_processing_jobs') IS NOT NULL")) {
                return r.next() && r.getBoolean(1);
            }
        }
    }

    private static JsonNode readJson(String json) {
        try {
            return JSON.readTree(json);
        } catch (IOException e) {
            throw new AssertionError("result is not JSON: " + json, e);
        }
    }
}
