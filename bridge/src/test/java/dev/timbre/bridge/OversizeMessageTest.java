package dev.timbre.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.GetResponse;
import dev.timbre.bridge.testing.BridgeEnv;
import dev.timbre.bridge.testing.BridgeProcess;
import dev.timbre.bridge.testing.Poll;
import dev.timbre.bridge.testing.Rabbit;
import dev.timbre.bridge.testing.SqsCollector;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * A message far larger than SQS's 1 MiB (RabbitMQ 3.x accepts up to 128 MiB) must neither kill the bridge nor be
 * lost: it ends in the dead-letter queue and the bridge forwards what follows.
 */
class OversizeMessageTest extends BridgeHarness {

    private static final Duration TIMEOUT = Duration.ofSeconds(90);
    private static final int HUGE = 48 * 1024 * 1024;
    private Process child;

    @AfterEach
    void killChild() throws Exception {
        if (child != null && child.isAlive()) {
            child.destroyForcibly().waitFor();
        }
    }

    @Test
    void aMessageLargerThanTheHeapIsDeadLetteredAndTheBridgeLives() throws Exception {
        // given a bridge process with a 64 MiB heap (as in its container, it exits on OutOfMemoryError) and a
        // 48 MiB message between two small ones: holding that body once and copying it once would not fit
        String queue = rabbit.uniqueQueue("huge");
        URI queueUrl = sqs.createQueue(queue);
        Path log = Path.of(System.getProperty("user.dir"), System.getProperty("timbre.build.dir", "target"),
                "bridge-oversize.log");
        child = BridgeProcess.start(new BridgeEnv(Rabbit.PORT, queue, sqs.endpoint(), queueUrl).map(), log,
                "-Xmx64m", "-XX:+ExitOnOutOfMemoryError");
        BridgeProcess.awaitQueueDeclared(rabbit, queue, child, TIMEOUT);
        byte[] huge = new byte[HUGE];
        huge[0] = '{';
        huge[HUGE - 1] = '}';
        rabbit.publish(queue, "before", "{\"n\":1}".getBytes(StandardCharsets.UTF_8), Map.of());
        rabbit.publish(queue, "huge", huge, Map.of());
        rabbit.publish(queue, "after", "{\"n\":2}".getBytes(StandardCharsets.UTF_8), Map.of());
        rabbit.confirm();

        // when it has forwarded the small ones
        SqsCollector collector = new SqsCollector(sqs.client(), queueUrl);
        collector.awaitIds(List.of("before", "after"), TIMEOUT);

        // then the huge one is in the dead-letter queue, whole, and the bridge is still running, nothing left over
        GetResponse dead = awaitDeadLetter(queue + ".dlq");
        assertNotNull(dead, "the huge message reached the dead-letter queue; bridge log: " + tail(log));
        assertEquals("huge", dead.getProps().getMessageId());
        assertEquals(HUGE, dead.getBody().length, "the original body, untouched");
        assertTrue(dead.getProps().getHeaders().get("x-death").toString().contains("reason=rejected"));
        assertTrue(child.isAlive(), "the bridge survived; log: " + tail(log));
        assertTrue(Poll.until(TIMEOUT, () -> rabbit.readyUnchecked(queue) == 0), "nothing left in the queue");
        assertEquals(Set.of("before", "after"), collector.distinctIds(), "the small ones");
        assertEquals(0, collector.duplicates(), "once each");
        assertTrue(Files.readString(log).contains("dead-lettering message huge"), tail(log));
    }

    @Test
    void onAQueueWithoutVerifiableDeadLetteringItIsRequeuedAndConsumingStopsVisibly() throws Exception {
        // given a queue an operator declared without a dead-letter exchange: a reject would drop the message
        String queue = rabbit.uniqueQueue("huge-nodlx");
        rabbit.channel().queueDeclare(queue, true, false, false, Map.of("x-queue-type", "classic"));
        URI queueUrl = sqs.createQueue(queue);
        start(new BridgeEnv(Rabbit.PORT, queue, sqs.endpoint(), queueUrl));
        rabbit.publish(queue, "big", new byte[3 * 1024 * 1024], Map.of());
        rabbit.confirm();

        // when the bridge meets it, then it keeps it in the queue, stops consuming, and says so on /healthz
        HttpClient http = HttpClient.newHttpClient();
        URI healthz = URI.create("http://127.0.0.1:" + bridge.httpPort() + "/healthz");
        assertTrue(Poll.until(TIMEOUT, () -> status(http, healthz) == 503), "health went red");
        assertTrue(Poll.until(TIMEOUT, () -> rabbit.readyUnchecked(queue) == 1), "the message is back in the queue");
        GetResponse kept = rabbit.get(queue);
        assertEquals("big", kept.getProps().getMessageId());
        assertEquals(3 * 1024 * 1024, kept.getBody().length);
        assertEquals(0, bridge.metrics().deadLetteredCount("MessageTooLong"));
    }

    private GetResponse awaitDeadLetter(String dlq) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (System.nanoTime() < deadline) {
            GetResponse r = rabbit.get(dlq);
            if (r != null) {
                return r;
            }
            if (!child.isAlive()) {
                return null;
            }
            Poll.pause();
        }
        return null;
    }

    private static int status(HttpClient http, URI uri) {
        try {
            return http.send(HttpRequest.newBuilder(uri).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        } catch (Exception e) {
            return -1;
        }
    }

    private static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 15), lines.size()));
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }
}
