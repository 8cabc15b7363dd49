package dev.timbre.pipeline;

import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.amazonaws.services.lambda.runtime.serialization.PojoSerializer;
import com.amazonaws.services.lambda.runtime.serialization.events.LambdaEventSerializers;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.UUID;

/**
 * Builds SQS events in the exact JSON shape Lambda delivers, starting from the committed sample
 * {@code infra/events/sqs-receive-message.json}, and reads them the way the Lambda runtime does
 * (aws-lambda-java-serialization; plain Jackson gets the casing wrong).
 */
public final class SqsEvents {

    /** Tests run in a module folder, the benchmark in the repository root. */
    private static final Path EVENTS = Files.isDirectory(Path.of("infra", "events"))
            ? Path.of("infra", "events") : Path.of("..", "infra", "events");
    public static final Path SAMPLE = EVENTS.resolve("sqs-receive-message.json");
    public static final Path SAMPLE_FIFO = EVENTS.resolve("sqs-receive-message-fifo.json");
    public static final String STANDARD_ARN = "arn:aws:sqs:us-east-1:123456789012:timbre-jobs";
    public static final String FIFO_ARN = "arn:aws:sqs:us-east-1:123456789012:timbre-jobs.fifo";

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final PojoSerializer<SQSEvent> SERIALIZER =
            LambdaEventSerializers.serializerFor(SQSEvent.class, SqsEvents.class.getClassLoader());

    /** One record to put into an event. */
    public record Record(String messageId, String body, int receiveCount, String messageGroupId) {
        public static Record of(String body) {
            return new Record(UUID.randomUUID().toString(), body, 1, null);
        }

        public Record withReceiveCount(int count) {
            return new Record(messageId, body, count, messageGroupId);
        }

        public Record inGroup(String group) {
            return new Record(messageId, body, receiveCount, group);
        }
    }

    private SqsEvents() {
    }

    /** Reads an event file as the Lambda runtime would. */
    public static SQSEvent read(Path file) {
        try (var in = Files.newInputStream(file)) {
            return SERIALIZER.fromJson(in);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Writes an event as the JSON Lambda delivers. */
    public static void write(SQSEvent event, Path file) {
        try (var out = Files.newOutputStream(file)) {
            SERIALIZER.toJson(event, out);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** An event of these records from a standard queue, or a FIFO queue when any record has a group. */
    public static SQSEvent of(List<Record> records) {
        try {
            JsonNode template = JSON.readTree(SAMPLE.toFile()).get("Records").get(0);
            boolean fifo = records.stream().anyMatch(r -> r.messageGroupId() != null);
            ObjectNode root = JSON.createObjectNode();
            ArrayNode array = root.putArray("Records");
            long sent = System.currentTimeMillis();
            for (Record r : records) {
                ObjectNode rec = template.deepCopy();
                rec.put("messageId", r.messageId());
                rec.put("receiptHandle", "AQEB" + r.messageId().replace("-", ""));
                rec.put("body", r.body());
                rec.put("md5OfBody", md5(r.body()));
                rec.put("eventSourceARN", fifo ? FIFO_ARN : STANDARD_ARN);
                ObjectNode attributes = (ObjectNode) rec.get("attributes");
                attributes.put("ApproximateReceiveCount", String.valueOf(r.receiveCount()));
                attributes.put("SentTimestamp", String.valueOf(sent));
                attributes.put("ApproximateFirstReceiveTimestamp", String.valueOf(sent + 1));
                if (r.messageGroupId() != null) {
                    attributes.put("MessageGroupId", r.messageGroupId());
                    attributes.put("MessageDeduplicationId", r.messageId());
                }
                array.add(rec);
            }
            return SERIALIZER.fromJson(JSON.writeValueAsString(root));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String md5(String body) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("MD5").digest(body.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
