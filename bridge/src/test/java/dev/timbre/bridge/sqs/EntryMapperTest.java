package dev.timbre.bridge.sqs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import dev.timbre.bridge.forward.Delivery;
import dev.timbre.bridge.forward.OutboundEntry;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class EntryMapperTest {

    private final AtomicInteger dropped = new AtomicInteger();

    private static Delivery delivery(String body, AMQP.BasicProperties props) {
        return new Delivery(body.getBytes(StandardCharsets.UTF_8), props, false, 0, null);
    }

    @Test
    void carriesIdsTimestampAndAtMostTenAttributesSkippingBrokerHeaders() throws Exception {
        Map<String, Object> headers = new LinkedHashMap<>();
        for (int i = 0; i < 12; i++) {
            headers.put("h" + (char) ('a' + i), "v" + i);
        }
        headers.put("x-death", "broker");
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().messageId("m1").correlationId("c1")
                .timestamp(new java.util.Date(42_000)).headers(headers).build();
        OutboundEntry e = new EntryMapper(false, "voice_id", 4, dropped::incrementAndGet).map(delivery("{}", props));
        assertEquals(10, e.attributes().size());
        assertEquals("m1", e.attributes().get("amqp_message_id").stringValue());
        assertEquals("42000", e.attributes().get("amqp_timestamp").stringValue());
        assertTrue(e.attributes().containsKey("ha"));
        assertFalse(e.attributes().containsKey("x-death"));
        assertEquals(5, dropped.get(), "12 headers, 7 slots left");
        assertEquals(0, e.lane());
        assertTrue(e.groupId().isEmpty());
    }

    @Test
    void fifoGroupComesFromHeaderElseBodyAndDedupFromMessageIdElseBodyHash() throws Exception {
        EntryMapper mapper = new EntryMapper(true, "voice_id", 4, dropped::incrementAndGet);
        AMQP.BasicProperties withHeader = new AMQP.BasicProperties.Builder().messageId("m2")
                .headers(Map.of("voice_id", "alice")).build();
        OutboundEntry fromHeader = mapper.map(delivery("{\"voice_id\":\"bob\"}", withHeader));
        assertEquals("alice", fromHeader.groupId().orElseThrow());
        assertEquals("m2", fromHeader.deduplicationId().orElseThrow());

        OutboundEntry fromBody = mapper.map(delivery("{\"voice_id\":\"bob\"}", new AMQP.BasicProperties()));
        assertEquals("bob", fromBody.groupId().orElseThrow());
        assertEquals(64, fromBody.deduplicationId().orElseThrow().length(), "SHA-256 of the body");

        OutboundEntry notJson = mapper.map(delivery("not json", new AMQP.BasicProperties()));
        assertEquals("default", notJson.groupId().orElseThrow());
    }

    @Test
    void bodiesThatAreNotUtf8OrTooLargeCannotBeSent() {
        EntryMapper mapper = new EntryMapper(false, "voice_id", 1, dropped::incrementAndGet);
        Delivery latin1 = new Delivery(new byte[] {'h', (byte) 0xE9}, new AMQP.BasicProperties(), false, 0, null);
        assertEquals("InvalidMessageContents",
                assertThrows(UnsendableMessageException.class, () -> mapper.map(latin1)).code());
        Delivery huge = new Delivery(new byte[1_048_577], new AMQP.BasicProperties(), false, 0, null);
        assertEquals("MessageTooLong", assertThrows(UnsendableMessageException.class, () -> mapper.map(huge)).code());
    }

    @Test
    void charactersSqsRefusesAreCaughtPerMessageNotLeftToFailTheBatch() throws Exception {
        EntryMapper mapper = new EntryMapper(false, "voice_id", 1, dropped::incrementAndGet);
        for (String refused : List.of("\u0000", "\u0008", "\u001F", "\uFFFE", "\uFFFF")) {
            Delivery d = new Delivery(("{\"job_id\":\"x" + refused + "\"}").getBytes(StandardCharsets.UTF_8),
                    new AMQP.BasicProperties(), false, 0, null);
            UnsendableMessageException e = assertThrows(UnsendableMessageException.class, () -> mapper.map(d));
            assertEquals("InvalidMessageContents", e.code());
            assertTrue(e.getMessage().contains(String.format("U+%04X at character 12", (int) refused.charAt(0))),
                    e.getMessage());
        }
        // tab, newline, carriage return, the top of the BMP and astral characters are fine
        String accepted = "{\"v\":\"a\tb\nc\rd\uFFFD\uD83D\uDE00\uE000\"}";
        assertEquals(accepted, mapper.map(new Delivery(accepted.getBytes(StandardCharsets.UTF_8),
                new AMQP.BasicProperties(), false, 0, null)).body());
        // a header value SQS would refuse is dropped; the message goes on
        AMQP.BasicProperties withBadHeader = new AMQP.BasicProperties.Builder()
                .headers(Map.of("voice_id", "al\u0000ice", "ok", "fine")).build();
        OutboundEntry entry = mapper.map(new Delivery("{}".getBytes(StandardCharsets.UTF_8), withBadHeader, false, 0, null));
        assertFalse(entry.attributes().containsKey("voice_id"));
        assertEquals("fine", entry.attributes().get("ok").stringValue());
    }

    @Test
    void attributeNamesFollowSqsRules() {
        assertTrue(EntryMapper.validAttributeName("voice_id"));
        assertTrue(EntryMapper.validAttributeName("a.b-c"));
        assertFalse(EntryMapper.validAttributeName("AWS.trace"));
        assertFalse(EntryMapper.validAttributeName("has space"));
        assertFalse(EntryMapper.validAttributeName("a..b"));
        assertFalse(EntryMapper.validAttributeName(".a"));
    }

    @Test
    void aBodyOverTheLimitIsRefusedForItsSizeBeforeBeingDecoded() {
        // 2 MiB that are not UTF-8: checked for size first, it is refused as too long without a decoded copy
        byte[] notUtf8 = new byte[2 * 1_048_576];
        java.util.Arrays.fill(notUtf8, (byte) 0xC3);
        Delivery d = new Delivery(notUtf8, new AMQP.BasicProperties(), false, 0, null);
        UnsendableMessageException e = assertThrows(UnsendableMessageException.class,
                () -> new EntryMapper(false, "voice_id", 1, dropped::incrementAndGet).map(d));
        assertEquals("MessageTooLong", e.code(), e.getMessage());
    }
}
