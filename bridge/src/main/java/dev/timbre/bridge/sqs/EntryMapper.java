package dev.timbre.bridge.sqs;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.LongString;
import dev.timbre.bridge.forward.Delivery;
import dev.timbre.bridge.forward.OutboundBatch;
import dev.timbre.bridge.forward.OutboundEntry;
import java.math.BigDecimal;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Date;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import software.amazon.awssdk.core.SdkBytes;
import software.amazon.awssdk.services.sqs.model.MessageAttributeValue;

/**
 * Translates an AMQP delivery into an SQS batch entry.
 *
 * <p>Attributes, in this order until SQS's limit of 10: {@code amqp_message_id}, {@code amqp_correlation_id},
 * {@code amqp_timestamp} (epoch milliseconds), then the AMQP headers sorted by name. Headers whose names start with
 * {@code x-} are broker bookkeeping ({@code x-death}, {@code x-delivery-count}) and are not carried; headers whose
 * names SQS does not allow, whose values are empty, or which do not fit are dropped and counted.
 *
 * <p>For FIFO queues the group id comes from the configured header, else the same field of the JSON body, else
 * {@code "default"}; the deduplication id is the AMQP message id when SQS accepts it, else the SHA-256 of the body.
 *
 * <p>Thread-safe (stateless apart from the counter callback).
 */
public final class EntryMapper {

    /** SQS's cap on message attributes per message. */
    public static final int MAX_ATTRIBUTES = 10;

    // https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/sqs-message-metadata.html
    private static final Pattern ATTRIBUTE_NAME = Pattern.compile("[A-Za-z0-9_.\\-]{1,256}");
    // MessageGroupId and MessageDeduplicationId: alphanumerics and punctuation, 1..128.
    private static final Pattern FIFO_ID = Pattern.compile("[\\x21-\\x7E]{1,128}");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final boolean fifo;
    private final String groupField;
    private final int lanes;
    private final Runnable onHeaderDropped;

    /**
     * @param fifo whether the target queue is FIFO
     * @param groupField header (or JSON body field) holding the FIFO group id
     * @param lanes sender lanes FIFO groups are spread over
     * @param onHeaderDropped called once per header that could not be carried
     */
    public EntryMapper(boolean fifo, String groupField, int lanes, Runnable onHeaderDropped) {
        this.fifo = fifo;
        this.groupField = groupField;
        this.lanes = fifo ? lanes : 1;
        this.onHeaderDropped = onHeaderDropped;
    }

    /** Lanes the batcher needs: one per in-flight batch for FIFO (order per group), one for standard queues. */
    public int lanes() {
        return lanes;
    }

    /**
     * @throws UnsendableMessageException when the body is not UTF-8, the entry exceeds 1 MiB or the body holds a
     *     character SQS refuses
     */
    public OutboundEntry map(Delivery delivery) throws UnsendableMessageException {
        // Before decoding: a decoded copy of a large body (up to 2 bytes a character, plus the re-encoding) would
        // cost several times its size, which is how one large message used to exhaust the heap.
        if (delivery.body().length > OutboundBatch.MAX_BYTES) {
            throw tooLong(delivery.body().length);
        }
        String body = decodeUtf8(delivery.body());
        AMQP.BasicProperties props = delivery.properties();
        Map<String, MessageAttributeValue> attributes = new LinkedHashMap<>();
        if (props.getMessageId() != null && !props.getMessageId().isEmpty()) {
            attributes.put("amqp_message_id", string(props.getMessageId()));
        }
        if (props.getCorrelationId() != null && !props.getCorrelationId().isEmpty()) {
            attributes.put("amqp_correlation_id", string(props.getCorrelationId()));
        }
        if (props.getTimestamp() != null) {
            attributes.put("amqp_timestamp", number(Long.toString(props.getTimestamp().getTime())));
        }
        Map<String, Object> headers = props.getHeaders() == null ? Map.of() : props.getHeaders();
        List<String> names = new ArrayList<>(headers.keySet());
        names.sort(null);
        for (String name : names) {
            if (name.startsWith("x-")) {
                continue;
            }
            Optional<MessageAttributeValue> value = attributeValue(headers.get(name));
            if (attributes.size() >= MAX_ATTRIBUTES || !validAttributeName(name) || value.isEmpty()
                    || attributes.containsKey(name)) {
                onHeaderDropped.run();
                continue;
            }
            attributes.put(name, value.get());
        }
        int size = delivery.body().length + attributesSize(attributes); // the body is that UTF-8, byte for byte
        if (size > OutboundBatch.MAX_BYTES) {
            throw tooLong(size);
        }
        requireCharactersSqsAccepts(body);
        Optional<String> groupId = Optional.empty();
        Optional<String> dedupId = Optional.empty();
        int lane = 0;
        if (fifo) {
            String group = fifoId(groupIdFrom(headers, body)).orElse("default");
            groupId = Optional.of(group);
            dedupId = Optional.of(fifoId(props.getMessageId()).orElseGet(() -> sha256(delivery.body())));
            lane = Math.floorMod(group.hashCode(), lanes);
        }
        return new OutboundEntry(delivery, body, attributes, groupId, dedupId, size, lane);
    }

    private static UnsendableMessageException tooLong(long size) {
        return new UnsendableMessageException("MessageTooLong",
                "message of " + size + " bytes (body + attributes) exceeds SQS's limit of " + OutboundBatch.MAX_BYTES);
    }

    private String groupIdFrom(Map<String, Object> headers, String body) {
        Object header = headers.get(groupField);
        if (header != null) {
            return header.toString();
        }
        try {
            JsonNode node = JSON.readTree(body).get(groupField);
            return node != null && node.isValueNode() ? node.asText() : null;
        } catch (Exception notJson) {
            return null; // the worker dead-letters the poison body; here it only needs some group
        }
    }

    private static Optional<String> fifoId(String candidate) {
        if (candidate == null) {
            return Optional.empty();
        }
        if (FIFO_ID.matcher(candidate).matches()) {
            return Optional.of(candidate);
        }
        // Keep the grouping of ids SQS would refuse (spaces, > 128 chars) by hashing them.
        return Optional.of(sha256(candidate.getBytes(StandardCharsets.UTF_8)));
    }

    static boolean validAttributeName(String name) {
        String lower = name.toLowerCase(Locale.ROOT);
        return ATTRIBUTE_NAME.matcher(name).matches() && !lower.startsWith("aws.") && !lower.startsWith("amazon.")
                && !name.startsWith(".") && !name.endsWith(".") && !name.contains("..");
    }

    private static Optional<MessageAttributeValue> attributeValue(Object v) {
        if (v instanceof LongString || v instanceof String || v instanceof Boolean || v instanceof Character) {
            String s = v.toString();
            // a header value SQS would refuse would fail the whole batch: drop the header, keep the message
            return s.isEmpty() || firstCharacterSqsRefuses(s) >= 0 ? Optional.empty() : Optional.of(string(s));
        }
        if (v instanceof Integer || v instanceof Long || v instanceof Short || v instanceof Byte) {
            return Optional.of(number(v.toString()));
        }
        if (v instanceof BigDecimal d) {
            return Optional.of(number(d.toPlainString()));
        }
        if (v instanceof Double || v instanceof Float) {
            double d = ((Number) v).doubleValue();
            return Double.isFinite(d) ? Optional.of(number(BigDecimal.valueOf(d).toPlainString())) : Optional.empty();
        }
        if (v instanceof Date d) {
            return Optional.of(number(Long.toString(d.getTime())));
        }
        if (v instanceof byte[] b && b.length > 0) {
            return Optional.of(MessageAttributeValue.builder().dataType("Binary")
                    .binaryValue(SdkBytes.fromByteArray(b)).build());
        }
        return Optional.empty(); // tables, arrays, void: no SQS scalar fits
    }

    private static MessageAttributeValue string(String s) {
        return MessageAttributeValue.builder().dataType("String").stringValue(s).build();
    }

    private static MessageAttributeValue number(String s) {
        return MessageAttributeValue.builder().dataType("Number").stringValue(s).build();
    }

    static int attributesSize(Map<String, MessageAttributeValue> attributes) {
        int size = 0;
        for (Map.Entry<String, MessageAttributeValue> e : attributes.entrySet()) {
            MessageAttributeValue v = e.getValue();
            size += utf8Length(e.getKey()) + utf8Length(v.dataType());
            size += v.binaryValue() != null ? v.binaryValue().asByteArrayUnsafe().length : utf8Length(v.stringValue());
        }
        return size;
    }

    private static int utf8Length(String s) {
        return s.getBytes(StandardCharsets.UTF_8).length;
    }

    private static String decodeUtf8(byte[] body) throws UnsendableMessageException {
        CharsetDecoder decoder = StandardCharsets.UTF_8.newDecoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT);
        try {
            return decoder.decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            // Decoding leniently would silently change the job; SQS bodies are text.
            throw new UnsendableMessageException("InvalidMessageContents", "body is not valid UTF-8");
        }
    }

    private static void requireCharactersSqsAccepts(String body) throws UnsendableMessageException {
        int refused = firstCharacterSqsRefuses(body);
        if (refused >= 0) {
            // caught here, per message: SQS can refuse the whole batch request for one such entry
            throw new UnsendableMessageException("InvalidMessageContents", String.format(Locale.ROOT,
                    "body contains U+%04X at character %d, which SQS does not accept", body.codePointAt(refused),
                    refused));
        }
    }

    /**
     * Index of the first character outside what SQS accepts in a message ({@code #x9 | #xA | #xD | #x20-#xD7FF |
     * #xE000-#xFFFD | #x10000-#x10FFFF}), or -1. Strictly decoded UTF-8 has no lone surrogates.
     */
    static int firstCharacterSqsRefuses(String s) {
        for (int i = 0; i < s.length(); ) {
            int c = s.codePointAt(i);
            boolean allowed = c == 0x9 || c == 0xA || c == 0xD || (c >= 0x20 && c <= 0xD7FF)
                    || (c >= 0xE000 && c <= 0xFFFD) || c >= 0x10000;
            if (!allowed) {
                return i;
            }
            i += Character.charCount(c);
        }
        return -1;
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("every JVM has SHA-256", e);
        }
    }
}
