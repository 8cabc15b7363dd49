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

    /**
     * @return true when the consumed queue verifiably dead-letters to the configured exchange (declared here now, or
     *     earlier with exactly the arguments the bridge uses) and that exchange is the fanout bound to the
     *     dead-letter queue; false when that cannot be known (an operator's queue,
     *     a dead-letter exchange set by policy), so a {@code basic.reject} without requeue might drop a message
     */
    boolean ensure(Connection connection) throws IOException, TimeoutException {
        Map<String, Object> typeArgs = Map.of("x-queue-type", type(config.queueType()));
        boolean deadLetterRouteOk = withChannel(connection, ch -> {
            ch.exchangeDeclare(config.deadLetterExchange(), BuiltinExchangeType.FANOUT, true);
            ch.queueDeclare(config.deadLetterQueue(), true, false, false, typeArgs);
            ch.queueBind(config.deadLetterQueue(), config.deadLetterExchange(), "");
        }, "dead-letter exchange/queue " + config.deadLetterExchange() + " -> " + config.deadLetterQueue());
        if (exists(connection, config.amqpQueue())) {
            return deadLetterRouteOk && declaredAsTheBridgeWould(connection);
        }
        Map<String, Object> args = queueArguments(config.queueType());
        withChannel(connection, ch -> ch.queueDeclare(config.amqpQueue(), true, false, false, args),
                "queue " + config.amqpQueue());
        log.info("declared {} queue {} with dead-letter exchange {}", type(config.queueType()), config.amqpQueue(),
                config.deadLetterExchange());
        return deadLetterRouteOk && declaredAsTheBridgeWould(connection);
    }

    private Map<String, Object> queueArguments(BridgeConfig.QueueType queueType) {
        Map<String, Object> args = new HashMap<>();
        args.put("x-queue-type", type(queueType));
        args.put("x-dead-letter-exchange", config.deadLetterExchange());
        if (queueType == BridgeConfig.QueueType.QUORUM) {
            args.put("x-dead-letter-strategy", "at-least-once");
            args.put("x-overflow", "reject-publish");
        }
        return args;
    }

    /**
     * AMQP 0-9-1 cannot read a queue's arguments, but RabbitMQ refuses a redeclaration whose arguments differ
     * ({@code 406 PRECONDITION_FAILED}, on a throwaway channel): one that succeeds proves the queue has this
     * dead-letter exchange. Tried with both queue types, since an earlier run may have used the other one.
     */
    private boolean declaredAsTheBridgeWould(Connection connection) throws IOException, TimeoutException {
        for (BridgeConfig.QueueType queueType : BridgeConfig.QueueType.values()) {
            Channel probe = connection.createChannel();
            try {
                probe.queueDeclare(config.amqpQueue(), true, false, false, queueArguments(queueType));
                return true;
            } catch (IOException differs) {
                // another type or other arguments
            } finally {
                if (probe.isOpen()) {
                    probe.close();
                }
            }
        }
        log.warn("queue {} does not verifiably dead-letter to {} (declared with other arguments or by policy): a "
                + "message too large to forward will be requeued and consuming stopped instead", config.amqpQueue(),
                config.deadLetterExchange());
        return false;
    }

    private static String type(BridgeConfig.QueueType queueType) {
        return queueType == BridgeConfig.QueueType.QUORUM ? "quorum" : "classic";
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

    /** @return false when it exists with other arguments (then used as it is) */
    private static boolean withChannel(Connection connection, ChannelWork work, String what)
            throws IOException, TimeoutException {
        Channel ch = connection.createChannel();
        try {
            work.run(ch);
            return true;
        } catch (IOException e) {
            // Exists with other arguments: an operator's choice we respect rather than fail on.
            log.warn("could not declare {} as configured, using it as it is: {}", what, rootMessage(e));
            return false;
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
