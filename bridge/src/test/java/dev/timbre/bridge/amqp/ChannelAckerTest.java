package dev.timbre.bridge.amqp;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.Channel;
import dev.timbre.bridge.ops.BridgeMetrics;
import java.lang.reflect.Proxy;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * The acker's bookkeeping across a connection recovery. The channel records what it is asked to send: the frames
 * themselves are the client's business, which the end-to-end tests cover against RabbitMQ.
 */
class ChannelAckerTest {

    private final List<String> sent = new CopyOnWriteArrayList<>();

    private Channel recordingChannel() {
        return (Channel) Proxy.newProxyInstance(Channel.class.getClassLoader(), new Class<?>[] {Channel.class},
                (proxy, method, args) -> {
                    switch (method.getName()) {
                        case "basicAck" -> sent.add("ack " + args[0] + (Boolean.TRUE.equals(args[1]) ? " multiple" : ""));
                        case "basicReject" -> sent.add("reject " + args[0]);
                        case "getChannelNumber" -> {
                            return 1;
                        }
                        case "isOpen" -> {
                            return true;
                        }
                        default -> {
                        }
                    }
                    return null;
                });
    }

    @Test
    void afterARecoveryTheTagsOfTheLostDeliveriesNoLongerHoldMultipleAcksBack() throws Exception {
        ChannelAcker acker = new ChannelAcker(recordingChannel(), new BridgeMetrics(), "acker-test");
        // given deliveries 1..5, of which 1 and 2 were acked, then the connection was lost (3..5 requeued by the
        // broker and abandoned here, never acked)
        for (long tag = 1; tag <= 5; tag++) {
            acker.register(tag);
        }
        acker.ack(1);
        acker.ack(2);
        acker.forgetDeliveries();
        // when the recovered channel delivers 6..8 (the client continues the tags above the old ones) and all settle
        for (long tag = 6; tag <= 8; tag++) {
            acker.register(tag);
        }
        acker.ack(6);
        acker.ack(7);
        acker.ack(8);
        assertTrue(acker.finish(Duration.ofSeconds(10)));

        // then one multiple ack covers them, as before the loss
        assertEquals("ack 8 multiple", sent.get(sent.size() - 1), sent.toString());
        assertTrue(sent.stream().noneMatch(s -> s.equals("ack 6") || s.equals("ack 7") || s.equals("ack 8")),
                "no single acks: " + sent);
    }
}
