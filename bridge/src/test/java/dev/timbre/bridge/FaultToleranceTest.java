package dev.timbre.bridge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.bridge.testing.BridgeEnv;
import dev.timbre.bridge.testing.Poll;
import dev.timbre.bridge.testing.Rabbit;
import dev.timbre.bridge.testing.SqsCollector;
import dev.timbre.testsupport.TcpProxy;
import java.net.URI;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Real failures while messages flow: SQS unreachable, the broker connection dropped, the consumer cancelled.
 * Each test counts that every published id reached SQS at least once and reports the duplicates.
 */
class FaultToleranceTest extends BridgeHarness {

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    @Test
    void sqsDownForAWhileThenBackLosesNothingAndStopsPullingWhileDown() throws Exception {
        // given the bridge reaching SQS through a proxy we can cut, prefetch 100
        try (TcpProxy sqsPath = new TcpProxy("127.0.0.1", sqs.port())) {
            String queue = rabbit.uniqueQueue("sqs-outage");
            URI queueUrl = sqs.createQueue(queue);
            URI viaProxy = URI.create("http://127.0.0.1:" + sqsPath.port());
            start(new BridgeEnv(Rabbit.PORT, queue, viaProxy, URI.create(viaProxy + queueUrl.getPath()))
                    .with("TIMBRE_BRIDGE_PREFETCH", "100").with("TIMBRE_BRIDGE_MAX_IN_FLIGHT_BATCHES", "4"));
            SqsCollector collector = new SqsCollector(sqs.client(), queueUrl);
            List<String> before = rabbit.publishJobs(queue, "before", 300, 500);
            collector.awaitIds(before.subList(0, 50), TIMEOUT);

            // when SQS becomes unreachable while 2000 more wait
            sqsPath.cut();
            List<String> during = rabbit.publishJobs(queue, "during", 2000, 500);
            assertTrue(Poll.until(TIMEOUT, () -> bridge.metrics().retriedCount() > 0), "the bridge noticed");
            assertTrue(Poll.until(TIMEOUT, () -> !bridge.ready()), "not ready while SQS is down");
            int readyInBroker = rabbit.ready(queue);

            // then it stopped pulling: the broker still holds all but at most a prefetch of them
            assertTrue(readyInBroker >= 2000 - 100, "broker keeps the backlog, had " + readyInBroker);
            // Quorum queues on RabbitMQ 3.10 grant delivery credit in steps and may overshoot a prefetch by a few.
            assertTrue(bridge.metrics().bufferedPeak() <= 110, "memory bounded by the prefetch, peak "
                    + bridge.metrics().bufferedPeak());
            System.out.printf("sqs outage: peak buffered %d (prefetch 100), broker kept %d%n",
                    bridge.metrics().bufferedPeak(), readyInBroker);

            // when SQS is back
            sqsPath.restore();
            Set<String> all = new HashSet<>(before);
            all.addAll(during);
            collector.awaitIds(all, TIMEOUT);

            // then nothing was lost
            Set<String> missing = new HashSet<>(all);
            missing.removeAll(collector.distinctIds());
            assertEquals(Set.of(), missing, "every published id reached SQS");
            System.out.printf("sqs outage: %d published, %d received, %d duplicates, %d entry retries%n",
                    all.size(), collector.received().size(), collector.duplicates(), bridge.metrics().retriedCount());
            assertTrue(Poll.until(TIMEOUT, () -> bridge.ready()), "ready again");
        }
    }

    @Test
    void brokerConnectionDroppedMidStreamLosesNothing() throws Exception {
        // given the bridge reaching RabbitMQ through a proxy that drops connections like a network failure
        try (TcpProxy amqpPath = new TcpProxy(Rabbit.HOST, Rabbit.PORT)) {
            String queue = rabbit.uniqueQueue("amqp-drop");
            URI queueUrl = sqs.createQueue(queue);
            start(new BridgeEnv(amqpPath.port(), queue, sqs.endpoint(), queueUrl)
                    .with("TIMBRE_BRIDGE_PREFETCH", "200").with("TIMBRE_BRIDGE_MAX_IN_FLIGHT_BATCHES", "2"));
            SqsCollector collector = new SqsCollector(sqs.client(), queueUrl);
            List<String> ids = rabbit.publishJobs(queue, "drop", 3000, 500);

            // when the connection is dropped twice while messages flow (judged by the bridge's own count)
            assertTrue(Poll.until(TIMEOUT, () -> bridge.metrics().forwardedCount() >= 300), "forwarding");
            amqpPath.resetConnections();
            assertTrue(Poll.until(TIMEOUT, () -> bridge.metrics().amqpRecoveryCount() >= 1), "recovered once");
            long atSecondDrop = bridge.metrics().forwardedCount() + 300;
            assertTrue(Poll.until(TIMEOUT, () -> bridge.metrics().forwardedCount() >= atSecondDrop), "forwarding");
            amqpPath.resetConnections();
            assertTrue(Poll.until(TIMEOUT, () -> bridge.metrics().amqpRecoveryCount() >= 2), "recovered twice");
            collector.awaitIds(ids, TIMEOUT);

            // then every id arrived; duplicates (redelivered in-flight messages) are possible and reported
            Set<String> missing = new HashSet<>(ids);
            missing.removeAll(collector.distinctIds());
            assertEquals(Set.of(), missing, "every published id reached SQS");
            assertTrue(Poll.until(TIMEOUT, () -> rabbit.readyUnchecked(queue) == 0), "queue drained");
            collector.drainUntilQuiet(Duration.ofSeconds(2));
            System.out.printf("broker drop: %d published, %d received, %d duplicates, %d redelivered, "
                    + "%d buffered copies not sent (stale)%n", ids.size(), collector.received().size(),
                    collector.duplicates(), bridge.metrics().redeliveredCount(), bridge.metrics().staleDroppedCount());
            assertTrue(bridge.metrics().redeliveredCount() > 0, "dropped mid-stream: unacked messages came back");
            assertTrue(collector.duplicates() <= bridge.metrics().redeliveredCount(),
                    "only redelivered messages can be duplicates");
        }
    }

    @Test
    void consumerCancelledByTheBrokerResubscribes() throws Exception {
        // given a running bridge
        String queue = rabbit.uniqueQueue("cancel");
        URI queueUrl = sqs.createQueue(queue);
        start(new BridgeEnv(Rabbit.PORT, queue, sqs.endpoint(), queueUrl).with("TIMBRE_BRIDGE_QUEUE_TYPE", "classic"));
        SqsCollector collector = new SqsCollector(sqs.client(), queueUrl);
        collector.awaitIds(rabbit.publishJobs(queue, "c1", 20, 200), TIMEOUT);

        // when the queue is deleted under the consumer (the broker sends basic.cancel)
        rabbit.channel().queueDelete(queue);
        assertTrue(Poll.until(TIMEOUT, () -> bridge.metrics().consumerCancelCount() == 1), "cancel seen");
        assertTrue(Poll.until(TIMEOUT, () -> bridge.ready()), "subscribed again (queue declared again)");
        List<String> after = rabbit.publishJobs(queue, "c2", 20, 200);

        // then messages published afterwards still flow
        collector.awaitIds(after, TIMEOUT);
        assertTrue(collector.distinctIds().containsAll(after));
    }

    @Test
    void gracefulCloseMidStreamAcksEverythingItForwarded() throws Exception {
        // given a bridge forwarding 3000 messages one batch at a time
        String queue = rabbit.uniqueQueue("graceful");
        URI queueUrl = sqs.createQueue(queue);
        start(new BridgeEnv(Rabbit.PORT, queue, sqs.endpoint(), queueUrl)
                .with("TIMBRE_BRIDGE_PREFETCH", "300").with("TIMBRE_BRIDGE_MAX_IN_FLIGHT_BATCHES", "2"));
        List<String> ids = rabbit.publishJobs(queue, "g", 3000, 500);
        assertTrue(Poll.until(TIMEOUT, () -> bridge.metrics().forwardedCount() >= 300), "forwarding");

        // when it is closed mid-stream
        bridge.close();
        long forwarded = bridge.metrics().forwardedCount();
        bridge = null;

        // then the broker kept exactly what was not forwarded
        SqsCollector collector = new SqsCollector(sqs.client(), queueUrl);
        collector.drainUntilQuiet(Duration.ofSeconds(2));
        int left = rabbit.ready(queue);
        System.out.printf("graceful close: forwarded %d, in SQS %d, left in RabbitMQ %d%n", forwarded,
                collector.received().size(), left);
        assertTrue(forwarded < ids.size(), "closed mid-stream");
        assertEquals(forwarded, collector.received().size());
        assertEquals(ids.size() - forwarded, left, "every forwarded message was acked, the rest requeued");
    }
}
