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
 * <p>The copy is published {@code mandatory}: a dead-letter exchange that routes it nowhere (it exists with another
 * type or without the binding to the dead-letter queue) returns it with {@code basic.return} before the confirm,
 * instead of confirming a message it dropped. Such a copy counts as not published, so the original is not acked.
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
    /** How a publish ended. */
    enum Outcome {
        /** The broker confirmed the copy and routed it: the original may be acked. */
        CONFIRMED,
        /** Not confirmed (channel or connection trouble): the original goes back to the queue, to be tried again. */
        FAILED,
        /** Returned unroutable: the dead-letter route is misconfigured, and trying again cannot help. */
        UNROUTABLE
    }

    private Channel channel; // guarded by this
    private volatile boolean returned; // set by the return listener (connection thread) before the confirm arrives

    DeadLetterPublisher(Connection connection, String exchange, String sourceQueue) {
        this.connection = connection;
        this.exchange = exchange;
        this.sourceQueue = sourceQueue;
    }

    /** @return {@link Outcome#CONFIRMED} only when the broker confirmed the copy and did not return it */
    synchronized Outcome publish(byte[] body, AMQP.BasicProperties props, String code, String reason) {
        try {
            if (channel == null || !channel.isOpen()) {
                channel = connection.createChannel();
                channel.confirmSelect();
                channel.addReturnListener(r -> returned = true); // one publish in flight at a time
            }
            returned = false;
            Map<String, Object> headers = new HashMap<>(props.getHeaders() == null ? Map.of() : props.getHeaders());
            headers.put(REASON_HEADER, reason);
            headers.put(CODE_HEADER, code);
            headers.put(SOURCE_HEADER, sourceQueue);
            AMQP.BasicProperties copy = props.builder().headers(headers).deliveryMode(2).build();
            channel.basicPublish(exchange, sourceQueue, true, copy, body);
            channel.waitForConfirmsOrDie(CONFIRM_TIMEOUT.toMillis());
            if (returned) {
                log.error("dead-letter exchange {} routed message {} nowhere (returned unroutable); it stays in the "
                        + "queue", exchange, props.getMessageId());
                return Outcome.UNROUTABLE;
            }
            return Outcome.CONFIRMED;
        } catch (Exception e) {
            log.warn("could not dead-letter message {} ({}); it stays in the queue", props.getMessageId(), e.toString());
            return Outcome.FAILED;
        }
    }
}
