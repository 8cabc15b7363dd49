package dev.timbre.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.job.JobMessage;
import dev.timbre.job.JobMessageParser;
import dev.timbre.job.PoisonMessageException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Random;
import java.util.UUID;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Generated message bodies through {@link JobMessageParser}: the only exception that escapes is
 * {@link PoisonMessageException} with a one-line reason, a body the parser accepts satisfies every rule of
 * docs/architecture.md §2, and the RabbitMQ path (bytes) and the SQS path (text) agree.
 */
class MessageParserFuzzTest {
    private static final Duration PER_INPUT = Duration.ofSeconds(2); // microseconds normally; generous for a loaded CI machine
    private static final Pattern CANONICAL_UUID =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    private static final Pattern BUCKET = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");
    private static final String VALID = "{\"job_id\":\"" + UUID.nameUUIDFromBytes(new byte[] {1})
            + "\",\"voice_id\":\"voice-1\",\"s3_key\":\"uploads/voice-1/a.wav\",\"s3_bucket\":\"timbre-uploads\","
            + "\"metadata\":{\"filename\":\"a.wav\",\"tags\":[1,2.5,true,null]}}";

    private final JobMessageParser parser = new JobMessageParser();

    @Test
    void randomBytesArePoisonOrAValidMessage() {
        Fuzz.forAll("parser: random bytes", 5000, PER_INPUT, r -> checkBytes(Fuzz.randomBytes(r, 512)));
    }

    @Test
    void mutatedValidBodiesArePoisonOrAValidMessage() {
        byte[] valid = VALID.getBytes(StandardCharsets.UTF_8);
        Fuzz.forAll("parser: mutated valid body", 5000, PER_INPUT, r -> checkBytes(Fuzz.mutate(valid, r, 64)));
    }

    @Test
    void generatedJsonObjectsArePoisonOrObeyDesign2() {
        Fuzz.forAll("parser: generated JSON objects", 5000, PER_INPUT, r -> checkBytes(
                generatedObject(r).getBytes(StandardCharsets.UTF_8)));
    }

    private void checkBytes(byte[] body) {
        JobMessage fromBytes = null;
        String poison = null;
        try {
            fromBytes = parser.parse(body);
        } catch (PoisonMessageException e) {
            poison = e.getMessage();
            Fuzz.assertOneLine("poison reason", poison, 400);
        }
        String text = utf8(body);
        if (text == null) {
            assertTrue(poison != null, "invalid UTF-8 was accepted");
            return;
        }
        // the SQS path sees the same body as text: same verdict, same reason
        try {
            JobMessage fromText = parser.parse(text);
            assertEquals(fromBytes, fromText, "bytes and text disagree on " + text);
        } catch (PoisonMessageException e) {
            assertEquals(poison, e.getMessage(), "bytes and text disagree on " + text);
        }
        if (fromBytes != null) {
            assertObeysDesign(fromBytes, body);
        }
    }

    private static void assertObeysDesign(JobMessage m, byte[] body) {
        assertTrue(body.length <= JobMessageParser.MAX_BODY_BYTES, "body size");
        assertTrue(CANONICAL_UUID.matcher(m.jobId().toString()).matches());
        checkText("voice_id", m.voiceId(), JobMessageParser.MAX_VOICE_ID_CHARS);
        checkText("s3_key", m.s3Key(), JobMessageParser.MAX_S3_KEY_CHARS);
        m.s3Bucket().ifPresent(b -> assertTrue(BUCKET.matcher(b).matches(), "bucket " + b));
        assertTrue(m.metadata() != null, "metadata is never null");
    }

    private static void checkText(String field, String value, int max) {
        int chars = value.codePointCount(0, value.length());
        assertTrue(chars >= 1 && chars <= max, field + " length " + chars);
        assertFalse(value.isBlank(), field + " blank");
        assertFalse(value.indexOf('\0') >= 0, field + " holds NUL");
    }

    private static String utf8(byte[] bytes) {
        try {
            return StandardCharsets.UTF_8.newDecoder().decode(ByteBuffer.wrap(bytes)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    // ---- a generator of JSON objects near the message format

    private static String generatedObject(Random r) {
        StringBuilder json = new StringBuilder("{");
        String[] fields = {"job_id", "voice_id", "s3_key", "s3_bucket", "metadata", "unknown", "job_id"};
        boolean first = true;
        for (String field : fields) {
            boolean include = field.equals("unknown") || r.nextInt(10) > 0;
            if (field.equals("job_id") && !first && r.nextInt(20) > 0) {
                include = false; // a duplicate key only now and then
            }
            if (!include) {
                continue;
            }
            if (!first) {
                json.append(',');
            }
            first = false;
            json.append('"').append(field.equals("unknown") ? "x" + r.nextInt(100) : field).append("\":");
            json.append(value(r, field, 0));
        }
        return json.append('}').toString();
    }

    private static String value(Random r, String field, int depth) {
        int kind = r.nextInt(10);
        if (kind == 0) {
            return anyJson(r, depth);
        }
        return switch (field) {
            case "job_id" -> quoted(r.nextInt(4) > 0 ? new UUID(r.nextLong(), r.nextLong()).toString() : hostileString(r, 40));
            case "voice_id" -> quoted(r.nextInt(3) > 0 ? "voice-" + r.nextInt(1000) : hostileString(r, 140));
            case "s3_key" -> quoted(r.nextInt(3) > 0 ? "uploads/" + r.nextInt(99) + "/a.wav"
                    : r.nextInt(10) == 0 ? "k".repeat(1020 + r.nextInt(10)) : hostileString(r, 60));
            case "s3_bucket" -> quoted(r.nextInt(3) > 0 ? "timbre-uploads" : hostileString(r, 70));
            case "metadata" -> anyJson(r, depth);
            default -> anyJson(r, depth);
        };
    }

    private static String anyJson(Random r, int depth) {
        int kind = depth > 4 ? r.nextInt(5) : r.nextInt(7);
        return switch (kind) {
            case 0 -> "null";
            case 1 -> r.nextBoolean() ? "true" : "false";
            case 2 -> new String[] {"0", "-1", "1e308", "1e999", "-0.0", "12345678901234567890", "NaN", "0x10",
                "01"}[r.nextInt(9)];
            case 3, 4 -> quoted(hostileString(r, 30));
            case 5 -> {
                StringBuilder a = new StringBuilder("[");
                int n = r.nextInt(4);
                for (int i = 0; i < n; i++) {
                    a.append(i > 0 ? "," : "").append(anyJson(r, depth + 1));
                }
                yield a.append(']').toString();
            }
            default -> {
                StringBuilder o = new StringBuilder("{");
                int n = r.nextInt(4);
                for (int i = 0; i < n; i++) {
                    o.append(i > 0 ? "," : "").append(quoted(hostileString(r, 8))).append(':')
                            .append(anyJson(r, depth + 1));
                }
                yield o.append('}').toString();
            }
        };
    }

    /** A JSON string body (without quotes) with escapes, control characters, surrogates and path tricks. */
    private static String hostileString(Random r, int maxLength) {
        String[] pieces = {"a", "Z", "9", "-", ".", "..", "/", "\\\\", "\\\"", "\\u0000", "\\ud800", "\\udfff",
            "\\ud83d\\ude00", "é", "日本", "\uD83C\uDFB5", " ", "\\t", "\\n", "'", ";", "--", "%2e", "$(", "{{",
            "\\u202e", "\u0085", "\\u001f", "\u00a0"};
        StringBuilder s = new StringBuilder();
        int n = r.nextInt(maxLength + 1);
        for (int i = 0; i < n; i++) {
            s.append(pieces[r.nextInt(pieces.length)]);
        }
        return s.toString();
    }

    private static String quoted(String body) {
        return "\"" + body + "\"";
    }
}
