package dev.timbre.bridge.sqs;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.AMQP;
import dev.timbre.bridge.forward.Delivery;
import dev.timbre.bridge.forward.DeliverySettler;
import dev.timbre.bridge.forward.OutboundBatch;
import dev.timbre.bridge.forward.OutboundEntry;
import dev.timbre.bridge.ops.BridgeMetrics;
import dev.timbre.bridge.testing.ElasticMq;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sender against a real SQS protocol server, with entries built directly: what {@link EntryMapper} now refuses
 * at the edge (control characters) still shows how a per-entry refusal in an HTTP 200 answer is handled, should
 * SQS refuse an entry for a reason the mapper does not know.
 */
class SqsBatchSenderTest {

    private static ElasticMq sqs;

    @BeforeAll
    static void start() {
        sqs = new ElasticMq();
    }

    @AfterAll
    static void stop() {
        sqs.close();
    }

    @Test
    void anEntrySqsRefusesInAnOtherwiseAcceptedBatchIsDeadLetteredAndTheOthersAcked() {
        // given a batch of four where SQS refuses the third entry (U+0001 in the body) and takes the rest
        URI queueUrl = sqs.createQueue("sender-per-entry");
        BridgeMetrics metrics = new BridgeMetrics();
        SqsBatchSender sender = new SqsBatchSender(sqs.client(), queueUrl,
                new Backoff(Duration.ofMillis(10), Duration.ofMillis(50)), new SqsReachability(sqs.client(), queueUrl),
                metrics);
        Map<String, String> outcomes = new ConcurrentHashMap<>();
        List<OutboundEntry> entries = new ArrayList<>();
        for (String body : List.of("{\"n\":0}", "{\"n\":1}", "bad\u0001body", "{\"n\":3}")) {
            entries.add(entry(body, outcomes));
        }

        // when
        sender.send(new OutboundBatch(0, entries));

        // then the refused one is dead-lettered with SQS's code, the others acknowledged, none retried
        assertEquals(Map.of("{\"n\":0}", "ack", "{\"n\":1}", "ack", "{\"n\":3}", "ack"),
                Map.of("{\"n\":0}", outcomes.get("{\"n\":0}"), "{\"n\":1}", outcomes.get("{\"n\":1}"),
                        "{\"n\":3}", outcomes.get("{\"n\":3}")));
        String dead = outcomes.get("bad\u0001body");
        assertTrue(dead.startsWith("dead-letter ") && dead.contains("SQS refused the message"), dead);
        assertEquals(0, metrics.retriedCount());
        assertEquals(3, sqs.client().receiveMessage(b -> b.queueUrl(queueUrl.toString()).maxNumberOfMessages(10))
                .messages().size());
    }

    private static OutboundEntry entry(String body, Map<String, String> outcomes) {
        DeliverySettler settler = new DeliverySettler() {
            @Override
            public void ack() {
                outcomes.put(body, "ack");
            }

            @Override
            public void deadLetter(String code, String reason) {
                outcomes.put(body, "dead-letter " + code + ": " + reason);
            }
        };
        Delivery delivery = new Delivery(body.getBytes(StandardCharsets.UTF_8), new AMQP.BasicProperties(), false,
                System.nanoTime(), settler);
        return new OutboundEntry(delivery, body, Map.of(), Optional.empty(), Optional.empty(),
                body.getBytes(StandardCharsets.UTF_8).length, 0);
    }
}
