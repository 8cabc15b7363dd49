package dev.timbre.job;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.core.json.JsonReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;

import dev.timbre.tone.SeMode;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;

/**
 * The edge between untrusted message bodies and {@link JobMessage} (docs/architecture.md §2). Everything that is not a UTF-8
 * JSON object of at most 256 KiB with the required fields is rejected with a {@link PoisonMessageException}
 * whose message says precisely what was wrong (it becomes the DLQ attribute {@code timbre_poison_reason}).
 * Unknown fields are ignored so that producers can add fields before consumers know them.
 *
 * <p>Thread-safe and stateless; one shared instance is fine.
 */
public final class JobMessageParser {

    /** SQS's own message size limit, and the limit docs/architecture.md §2 puts on the RabbitMQ body. */
    public static final int MAX_BODY_BYTES = 256 * 1024;
    public static final int MAX_VOICE_ID_CHARS = 128;
    public static final int MAX_S3_KEY_CHARS = 1024;

    // Canonical 8-4-4-4-12 form only: UUID.fromString also accepts "1-2-3-4-5", which no producer writes.
    private static final Pattern CANONICAL_UUID =
            Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
    // S3 bucket naming rules (lower case, digits, dots, hyphens; 3..63): anything else can never be fetched.
    private static final Pattern BUCKET_NAME = Pattern.compile("[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]");

    private final ObjectMapper mapper = JsonMapper.builder()
            // A body with two job_id fields is ambiguous; refuse it rather than let the last one win silently.
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .disable(JsonReadFeature.ALLOW_NON_NUMERIC_NUMBERS)
            .disable(JsonParser.Feature.AUTO_CLOSE_SOURCE)
            .build();

    /**
     * Parses raw bytes (a RabbitMQ body). Bytes that are not valid UTF-8 are poison.
     *
     * @throws PoisonMessageException with a one-line reason
     */
    public JobMessage parse(byte[] body) {
        if (body == null) {
            throw new PoisonMessageException("message body is missing");
        }
        if (body.length > MAX_BODY_BYTES) {
            throw new PoisonMessageException(
                    "message body is " + body.length + " bytes, over the limit of " + MAX_BODY_BYTES);
        }
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(body))
                    .toString();
        } catch (CharacterCodingException e) {
            throw new PoisonMessageException("message body is not valid UTF-8");
        }
        return parseJson(text);
    }

    /**
     * Parses a body already decoded to text (an SQS body).
     *
     * @throws PoisonMessageException with a one-line reason
     */
    public JobMessage parse(String body) {
        if (body == null) {
            throw new PoisonMessageException("message body is missing");
        }
        // Cheap upper bound first (a UTF-16 unit is at most 3 UTF-8 bytes) before counting exactly.
        if (body.length() * 3L > MAX_BODY_BYTES) {
            int bytes = utf8Length(body);
            if (bytes > MAX_BODY_BYTES) {
                throw new PoisonMessageException(
                        "message body is " + bytes + " bytes, over the limit of " + MAX_BODY_BYTES);
            }
        }
        return parseJson(body);
    }

    private JobMessage parseJson(String text) {
        if (text.isBlank()) {
            throw new PoisonMessageException("message body is empty");
        }
        JsonNode root;
        try {
            root = mapper.readTree(text);
        } catch (JsonProcessingException e) {
            throw new PoisonMessageException("message body is not valid JSON: " + e.getOriginalMessage());
        }
        if (root == null || !root.isObject()) {
            throw new PoisonMessageException("message body must be a JSON object, was " + describe(root));
        }
        UUID jobId = parseJobId(requiredString(root, "job_id"));
        String voiceId = requiredString(root, "voice_id");
        checkLength("voice_id", voiceId, MAX_VOICE_ID_CHARS);
        String s3Key = requiredString(root, "s3_key");
        checkLength("s3_key", s3Key, MAX_S3_KEY_CHARS);
        Optional<String> bucket = optionalString(root, "s3_bucket");
        bucket.ifPresent(b -> {
            if (!BUCKET_NAME.matcher(b).matches()) {
                throw new PoisonMessageException("s3_bucket is not a valid S3 bucket name: " + quote(b));
            }
        });
        Map<String, Object> metadata = parseMetadata(root.get("metadata"));
        Optional<SeMode> seMode = optionalString(root, "se_mode").map(JobMessageParser::parseSeMode);
        return new JobMessage(jobId, voiceId, s3Key, bucket, metadata, seMode);
    }

    // An unknown mode is poison, not a fallback to the default: embedding in a mode the producer did not ask for
    // would put a vector into the wrong comparison group without anyone noticing.
    private static SeMode parseSeMode(String raw) {
        try {
            return SeMode.fromId(raw);
        } catch (IllegalArgumentException e) {
            throw new PoisonMessageException("se_mode must be get-se or extract-se, was " + quote(raw));
        }
    }

    private static UUID parseJobId(String raw) {
        if (!CANONICAL_UUID.matcher(raw).matches()) {
            throw new PoisonMessageException("job_id is not a UUID: " + quote(raw));
        }
        return UUID.fromString(raw);
    }

    private static String requiredString(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            throw new PoisonMessageException("required field " + field + " is missing");
        }
        if (!node.isTextual()) {
            throw new PoisonMessageException(field + " must be a string, was " + describe(node));
        }
        return node.textValue();
    }

    private static Optional<String> optionalString(JsonNode root, String field) {
        JsonNode node = root.get(field);
        if (node == null || node.isNull()) {
            return Optional.empty();
        }
        if (!node.isTextual()) {
            throw new PoisonMessageException(field + " must be a string, was " + describe(node));
        }
        return Optional.of(node.textValue());
    }

    private static void checkLength(String field, String value, int max) {
        int chars = value.codePointCount(0, value.length());
        if (chars < 1 || chars > max) {
            throw new PoisonMessageException(field + " must be 1.." + max + " characters, was " + chars);
        }
        if (value.isBlank()) {
            throw new PoisonMessageException(field + " must not be blank");
        }
        // Postgres text cannot hold NUL: such a value would fail at the database and be retried forever.
        if (value.indexOf('\0') >= 0) {
            throw new PoisonMessageException(field + " must not contain a NUL character");
        }
    }

    private Map<String, Object> parseMetadata(JsonNode node) {
        if (node == null || node.isNull()) {
            return Map.of();
        }
        if (!node.isObject()) {
            throw new PoisonMessageException("metadata must be a JSON object, was " + describe(node));
        }
        @SuppressWarnings("unchecked")
        Map<String, Object> map = mapper.convertValue(node, LinkedHashMap.class);
        return Collections.unmodifiableMap(map);
    }

    private static String describe(JsonNode node) {
        if (node == null || node.isMissingNode()) {
            return "nothing";
        }
        return switch (node.getNodeType()) {
            case ARRAY -> "an array";
            case BOOLEAN -> "a boolean";
            case NUMBER -> "a number";
            case STRING -> "a string";
            case NULL -> "null";
            case OBJECT -> "an object";
            default -> node.getNodeType().name().toLowerCase();
        };
    }

    /** Quotes a user value for a reason line, cut short so a reason never carries a whole body. */
    private static String quote(String value) {
        String shown = value.length() > 80 ? value.substring(0, 80) + "…" : value;
        return "\"" + shown.replaceAll("\\p{Cntrl}", "?") + "\"";
    }

    private static int utf8Length(String s) {
        int bytes = 0;
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c < 0x80) {
                bytes += 1;
            } else if (c < 0x800) {
                bytes += 2;
            } else if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
                bytes += 4;
                i++;
            } else {
                bytes += 3;
            }
        }
        return bytes;
    }
}
