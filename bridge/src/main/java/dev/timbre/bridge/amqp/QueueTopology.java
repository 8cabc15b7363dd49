package dev.timbre.bridge.amqp;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.timbre.bridge.config.BridgeConfig;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Declares what the bridge consumes when it is missing: the dead-letter exchange, the dead-letter queue bound to
 * it, and the work queue pointing at that exchange. An existing queue is used as it is (redeclaring it with other
 * arguments would fail with {@code 406 PRECONDITION_FAILED}).
 *
 * <p>Quorum queues get {@code x-dead-letter-strategy=at-least-once} with {@code x-overflow=reject-publish}: without
 * them RabbitMQ dead-letters at most once (docs/architecture.md §3). Not thread-safe; call from one
 * thread.
 */
final class QueueTopology {

    private static final Logger log = LoggerFactory.getLogger(QueueTopology.class);

    private final BridgeConfig config;

    QueueTopology(BridgeConfig config) {
        this.config = config;
    }

    void ensure(Connection connection) throws IOException, TimeoutException {
        Map<String, Object> typeArgs = Map.of("x-queue-type", type());
        withChannel(connection, ch -> {
            ch.exchangeDeclare(config.deadLetterExchange(), BuiltinExchangeType.FANOUT, true);
            ch.queueDeclare(config.deadLetterQueue(), true, false, false, typeArgs);
            ch.queueBind(config.deadLetterQueue(), config.deadLetterExchange(), "");
        }, "dead-letter exchange/queue " + config.deadLetterExchange() + " -> " + config.deadLetterQueue());
        if (exists(connection, config.amqpQueue())) {
            return;
        }
        Map<String, Object> args = new HashMap<>(typeArgs);
        args.put("x-dead-letter-exchange", config.deadLetterExchange());
        if (config.queueType() == BridgeConfig.QueueType.QUORUM) {
            args.put("x-dead-letter-strategy", "at-least-once");
            args.put("x-overflow", "reject-publish");
        }
        withChannel(connection, ch -> ch.queueDeclare(config.amqpQueue(), true, false, false, args),
                "queue " + config.amqpQueue());
        log.info("declared {} queue {} with dead-letter exchange {}", type(), config.amqpQueue(),
                config.deadLetterExchange());
    }

    private String type() {
        return config.queueType() == BridgeConfig.QueueType.QUORUM ? "quorum" : "classic";
    }

    private static boolean exists(Connection connection, String queue) throws IOException, TimeoutException {
        Channel probe = connection.createChannel();
        try {
            probe.queueDeclarePassive(queue);
            return true;
        } catch (IOException notFound) {
            return false; // 404 closes the probe channel
        } finally {
            if (probe.isOpen()) {
                probe.close();
            }
        }
    }

    private static void withChannel(Connection connection, ChannelWork work, String what)
            throws IOException, TimeoutException {
        Channel ch = connection.createChannel();
        try {
            work.run(ch);
        } catch (IOException e) {
            // Exists with other arguments: an operator's choice we respect rather than fail on.
            log.warn("could not declare {} as configured, using it as it is: {}", what, rootMessage(e));
        } finally {
            if (ch.isOpen()) {
                ch.close();
            }
        }
    }

    private static String rootMessage(Throwable t) {
        while (t.getCause() != null) {
            t = t.getCause();
        }
        return String.valueOf(t.getMessage());
    }

    @FunctionalInterface
    private interface ChannelWork {
        void run(Channel channel) throws IOException;
    }
}
