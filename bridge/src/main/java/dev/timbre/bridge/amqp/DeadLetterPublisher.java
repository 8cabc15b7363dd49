package dev.timbre.bridge.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Puts a copy of a refused message, with the reason in its headers, on the dead-letter exchange and waits for the
 * broker's confirm. A plain {@code basic.reject} would dead-letter too, but RabbitMQ cannot add a reason to it.
 *
 * <p>Headers added: {@value #REASON_HEADER} (one line a person can act on), {@value #CODE_HEADER} (SQS's error
 * code) and {@value #SOURCE_HEADER} (the queue it came from).
 *
 * <p>Thread-safe: publishes are serialised (publishing on one channel from several threads interleaves frames).
 */
final class DeadLetterPublisher {

    static final String REASON_HEADER = "x-timbre-dead-letter-reason";
    static final String CODE_HEADER = "x-timbre-dead-letter-code";
    static final String SOURCE_HEADER = "x-timbre-source-queue";

    private static final Logger log = LoggerFactory.getLogger(DeadLetterPublisher.class);
    private static final Duration CONFIRM_TIMEOUT = Duration.ofSeconds(10);

    private final Connection connection;
    private final String exchange;
    private final String sourceQueue;
    private Channel channel; // guarded by this

    DeadLetterPublisher(Connection connection, String exchange, String sourceQueue) {
        this.connection = connection;
        this.exchange = exchange;
        this.sourceQueue = sourceQueue;
    }

    /**
     * @return true once the broker confirmed the copy; false when it could not be published (the caller then leaves
     *     the original to be redelivered)
     */
    synchronized boolean publish(byte[] body, AMQP.BasicProperties props, String code, String reason) {
        try {
            if (channel == null || !channel.isOpen()) {
                channel = connection.createChannel();
                channel.confirmSelect();
            }
            Map<String, Object> headers = new HashMap<>(props.getHeaders() == null ? Map.of() : props.getHeaders());
            headers.put(REASON_HEADER, reason);
            headers.put(CODE_HEADER, code);
            headers.put(SOURCE_HEADER, sourceQueue);
            AMQP.BasicProperties copy = props.builder().headers(headers).deliveryMode(2).build();
            channel.basicPublish(exchange, sourceQueue, copy, body);
            channel.waitForConfirmsOrDie(CONFIRM_TIMEOUT.toMillis());
            return true;
        } catch (Exception e) {
            log.warn("could not dead-letter message {} ({}); it stays in the queue", props.getMessageId(), e.toString());
            return false;
        }
    }
}
