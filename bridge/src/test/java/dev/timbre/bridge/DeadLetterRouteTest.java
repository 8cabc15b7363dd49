package dev.timbre.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.GetResponse;
import dev.timbre.bridge.testing.BridgeEnv;
import dev.timbre.bridge.testing.Poll;
import dev.timbre.bridge.testing.Rabbit;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A dead-letter exchange that routes nowhere must not swallow the messages the bridge dead-letters. */
class DeadLetterRouteTest extends BridgeHarness {

    private static final Duration TIMEOUT = Duration.ofSeconds(30);

    @Test
    void aDeadLetterCopyReturnedUnroutableKeepsTheOriginalAndStopsConsumingVisibly() throws Exception {
        // given the dead-letter exchange already exists as a direct exchange with no binding (the bridge's fanout
        // declaration fails and it is used as it is): a copy published to it is routed nowhere
        String queue = rabbit.uniqueQueue("dlx-direct");
        rabbit.channel().exchangeDeclare(queue + ".dlx", BuiltinExchangeType.DIRECT, true);
        URI queueUrl = sqs.createQueue(queue);
        start(new BridgeEnv(Rabbit.PORT, queue, sqs.endpoint(), queueUrl).with("TIMBRE_BRIDGE_QUEUE_TYPE", "classic"));

        // when a message SQS would refuse arrives
        rabbit.publish(queue, "poison", "bad\u0001body".getBytes(StandardCharsets.UTF_8), Map.of());
        rabbit.confirm();

        // then it is still in RabbitMQ, and the bridge says on /healthz that it stopped
        HttpClient http = HttpClient.newHttpClient();
        URI healthz = URI.create("http://127.0.0.1:" + bridge.httpPort() + "/healthz");
        assertTrue(Poll.until(TIMEOUT, () -> body(http, healthz).contains("\"halted\":true")), body(http, healthz));
        assertTrue(Poll.until(TIMEOUT, () -> rabbit.readyUnchecked(queue) == 1), "the original is back in the queue");
        GetResponse kept = rabbit.get(queue);
        assertEquals("poison", kept.getProps().getMessageId());
        assertEquals(0, bridge.metrics().deadLetteredCount("InvalidMessageContents"));
    }

    private static String body(HttpClient http, URI uri) {
        try {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.ofString());
            return r.statusCode() + " " + r.body();
        } catch (Exception e) {
            return e.toString();
        }
    }
}
