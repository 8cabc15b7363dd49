package dev.timbre.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.GetResponse;
import dev.timbre.bridge.testing.BridgeEnv;
import dev.timbre.bridge.testing.Poll;
import dev.timbre.bridge.testing.Rabbit;
import dev.timbre.bridge.testing.SqsCollector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.model.Message;

/** The forwarding rules, end to end: real RabbitMQ, in-JVM ElasticMQ, the bridge in this JVM. */
class ForwardingTest extends BridgeHarness {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    @Test
    void orderingContentAndPropertiesArePreserved() throws Exception {
        // given a classic queue and a FIFO target (a standard SQS queue promises no order to compare against);
        // the group field "tenant" is in neither headers nor body, so every message is in one group
        String queue = rabbit.uniqueQueue("order");
        URI queueUrl = sqs.createQueue(queue + ".fifo");
        BridgeEnv env = new BridgeEnv(Rabbit.PORT, queue, sqs.endpoint(), queueUrl)
                .with("TIMBRE_BRIDGE_QUEUE_TYPE", "classic").with("TIMBRE_BRIDGE_FIFO_GROUP_HEADER", "tenant");
        start(env);
        List<String> ids = rabbit.publishJobs(queue, "o", 50, 600);

        // when
        List<Message> got = new SqsCollector(sqs.client(), queueUrl).awaitIds(ids, TIMEOUT);

        // then
        assertEquals(ids, idsOf(got), "every message arrives once, in publish order");
        Message first = got.get(0);
        assertEquals(Rabbit.jobBody(0, "voice-0", 600), first.body(), "the body is carried byte for byte");
        assertEquals("corr-o-0", first.messageAttributes().get("amqp_correlation_id").stringValue());
        assertEquals("1700000000000", first.messageAttributes().get("amqp_timestamp").stringValue());
        assertEquals("voice-0", first.messageAttributes().get("voice_id").stringValue(), "headers are carried");
        assertEquals("Number", first.messageAttributes().get("seq").dataType());
        assertEquals(0, rabbit.ready(queue), "nothing left in RabbitMQ");
    }

    @Test
    void fifoQueueKeepsOrderWithinEachGroupWithSeveralBatchesInFlight() throws Exception {
        // given a FIFO target and 4 batches in flight; groups come from the voice_id header
        String queue = rabbit.uniqueQueue("fifo");
        URI queueUrl = sqs.createQueue(queue + ".fifo");
        start(new BridgeEnv(Rabbit.PORT, queue, sqs.endpoint(), queueUrl)
                .with("TIMBRE_BRIDGE_MAX_IN_FLIGHT_BATCHES", "4"));
        List<String> ids = rabbit.publishJobs(queue, "f", 120, 300);

        // when
        List<Message> got = new SqsCollector(sqs.client(), queueUrl).awaitIds(ids, TIMEOUT);

        // then
        Map<String, List<Integer>> seqByGroup = new HashMap<>();
        for (Message m : got) {
            seqByGroup.computeIfAbsent(m.attributes().get(
                    software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName.MESSAGE_GROUP_ID),
                    g -> new ArrayList<>()).add(Integer.parseInt(m.messageAttributes().get("seq").stringValue()));
        }
        assertEquals(7, seqByGroup.size(), "one group per voice_id");
        seqByGroup.forEach((group, seqs) -> assertEquals(seqs.stream().sorted().toList(), seqs,
                "order within group " + group));
        assertEquals(120, got.size());
    }

    @Test
    void eleventhEntryGoesToTheNextBatch() throws Exception {
        // given 11 messages waiting and a linger long enough for all of them to be there
        String queue = rabbit.uniqueQueue("eleven");
        URI queueUrl = sqs.createQueue(queue);
        List<String> ids = new ArrayList<>();
        BridgeEnv env = new BridgeEnv(Rabbit.PORT, queue, sqs.endpoint(), queueUrl).with("TIMBRE_BRIDGE_LINGER_MS", "400");
        // the bridge declares the queue; publish once it exists
        start(env);
        ids.addAll(rabbit.publishJobs(queue, "e", 11, 200));

        // when
        new SqsCollector(sqs.client(), queueUrl).awaitIds(ids, TIMEOUT);
        // SQS can hold a message before the bridge has read the response: wait for the bridge's own count
        assertTrue(Poll.until(TIMEOUT, () -> bridge.metrics().forwardedCount() == 11));

        // then
        assertEquals(2, bridge.metrics().batchCount(), "10 entries in the first batch, the 11th in a second");
        assertEquals(11, bridge.metrics().forwardedCount());
    }

    @Test
    void batchesStayWithinOneMebibyteAndAMessageOfExactlyOneMebibyteIsSent() throws Exception {
        // given 5 messages of ~400 KB (two fit in a batch, three do not) and one of exactly 1 MiB with its attributes
        String queue = rabbit.uniqueQueue("mib");
        URI queueUrl = sqs.createQueue(queue);
        start(new BridgeEnv(Rabbit.PORT, queue, sqs.endpoint(), queueUrl).with("TIMBRE_BRIDGE_LINGER_MS", "300"));
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < 5; i++) {
            rabbit.publish(queue, "big-" + i, "a".repeat(400_000).getBytes(StandardCharsets.UTF_8), Map.of());
            ids.add("big-" + i);
        }
        // attributes: amqp_message_id/String/"exact" + amqp_correlation_id/String/"corr-exact" + amqp_timestamp/Number/13 digits
        int attributes = "amqp_message_id".length() + 6 + 5 + "amqp_correlation_id".length() + 6 + 10
                + "amqp_timestamp".length() + 6 + 13;
        rabbit.publish(queue, "exact", "b".repeat(1_048_576 - attributes).getBytes(StandardCharsets.UTF_8), Map.of());
        ids.add("exact");
        rabbit.confirm();

        // when
        List<Message> got = new SqsCollector(sqs.client(), queueUrl).awaitIds(ids, TIMEOUT);

        // then
        assertEquals(6, got.size());
        assertTrue(Poll.until(TIMEOUT, () -> bridge.metrics().forwardedCount() == 6), "bridge read every response");
        assertTrue(bridge.metrics().largestBatchBytes() <= 1_048_576, "no batch over 1 MiB");
        assertEquals(1_048_576, bridge.metrics().largestBatchBytes(), "the exact-size message went alone");
        assertTrue(bridge.metrics().batchCount() >= 4, "5×400 KB need at least 3 batches, plus the 1 MiB one");
    }

    @Test
    void poisonEntriesAmongGoodOnesAreDeadLetteredWithReasonAndTheRestForwarded() throws Exception {
        // given good messages around two that SQS cannot take, both refused before sending: a control character
        // (SQS would refuse it; dead-lettered as a copy with the reason) and a body over 1 MiB (rejected unread). SqsBatchSenderTest covers an entry SQS itself refuses.
        String queue = rabbit.uniqueQueue("poison");
        URI queueUrl = sqs.createQueue(queue);
        start(new BridgeEnv(Rabbit.PORT, queue, sqs.endpoint(), queueUrl).with("TIMBRE_BRIDGE_LINGER_MS", "200"));
        List<String> good = new ArrayList<>();
        for (int i = 0; i < 8; i++) {
            if (i == 3) {
                rabbit.publish(queue, "poison-char", "bad\u0001body".getBytes(StandardCharsets.UTF_8), Map.of());
            }
            if (i == 6) {
                rabbit.publish(queue, "poison-big", new byte[1_048_577], Map.of());
            }
            rabbit.publish(queue, "good-" + i, ("{\"n\":" + i + "}").getBytes(StandardCharsets.UTF_8), Map.of());
            good.add("good-" + i);
        }
        rabbit.confirm();

        // when
        SqsCollector collector = new SqsCollector(sqs.client(), queueUrl);
        collector.awaitIds(good, TIMEOUT);

        // then
        assertEquals(good.size(), collector.received().size(), "the good ones, once each, nothing else");
        Map<String, GetResponse> dead = new HashMap<>();
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (dead.size() < 2 && System.nanoTime() < deadline) {
            GetResponse r = rabbit.get(queue + ".dlq");
            if (r != null) {
                dead.put(r.getProps().getMessageId(), r);
            } else {
                Poll.pause();
            }
        }
        assertEquals(2, dead.size(), "both poison messages are in the dead-letter queue");
        Map<String, Object> charHeaders = dead.get("poison-char").getProps().getHeaders();
        assertEquals("InvalidMessageContents", charHeaders.get("x-timbre-dead-letter-code").toString());
        assertTrue(charHeaders.get("x-timbre-dead-letter-reason").toString().contains("U+0001"),
                charHeaders.get("x-timbre-dead-letter-reason").toString());
        // the body over 1 MiB is never read by the bridge: RabbitMQ dead-letters the original on its reject
        GetResponse big = dead.get("poison-big");
        assertEquals(1_048_577, big.getBody().length, "the original, whole");
        assertTrue(big.getProps().getHeaders().get("x-death").toString().contains("reason=rejected"),
                big.getProps().getHeaders().toString());
        assertTrue(Poll.until(TIMEOUT, () -> bridge.metrics().deadLetteredCount("InvalidMessageContents") == 1));
        assertTrue(Poll.until(TIMEOUT, () -> bridge.metrics().deadLetteredCount("MessageTooLong") == 1));
        assertEquals(0, rabbit.ready(queue));
    }

    @Test
    void healthzIsReadyOnlyWithBothSidesAndMetricsAreExposed() throws Exception {
        // given a bridge pointed at an SQS queue that does not exist
        String queue = rabbit.uniqueQueue("health");
        URI missing = URI.create(sqs.endpoint() + "/000000000000/missing-" + UUID.randomUUID());
        start(new BridgeEnv(Rabbit.PORT, queue, sqs.endpoint(), missing));
        HttpClient http = HttpClient.newHttpClient();
        URI healthz = URI.create("http://127.0.0.1:" + bridge.httpPort() + "/healthz");

        // then: RabbitMQ up, SQS answering with an error → not ready
        HttpResponse<String> notReady = http.send(HttpRequest.newBuilder(healthz).build(),
                HttpResponse.BodyHandlers.ofString());
        assertEquals(503, notReady.statusCode());
        assertTrue(notReady.body().startsWith("{\"status\":\"unhealthy\",\"amqp\":true,\"sqs\":false"),
                notReady.body());

        // and metrics are served in Prometheus text format
        String metrics = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + bridge.httpPort()
                + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        assertTrue(metrics.contains("timbre_bridge_forwarded_total"), metrics);
        assertTrue(metrics.contains("timbre_bridge_in_flight_batches"), metrics);
    }

    @Test
    void healthzTurnsReadyWhenBothSidesAnswer() throws Exception {
        String queue = rabbit.uniqueQueue("ready");
        URI queueUrl = sqs.createQueue(queue);
        start(new BridgeEnv(Rabbit.PORT, queue, sqs.endpoint(), queueUrl));
        HttpClient http = HttpClient.newHttpClient();
        URI healthz = URI.create("http://127.0.0.1:" + bridge.httpPort() + "/healthz");
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        int status = 0;
        while (status != 200 && System.nanoTime() < deadline) {
            status = http.send(HttpRequest.newBuilder(healthz).build(), HttpResponse.BodyHandlers.ofString())
                    .statusCode();
            Poll.pause();
        }
        assertEquals(200, status);
        assertNotNull(bridge.metrics());
    }

    private static List<String> idsOf(List<Message> messages) {
        return messages.stream().map(m -> m.messageAttributes().get("amqp_message_id").stringValue()).toList();
    }
}
