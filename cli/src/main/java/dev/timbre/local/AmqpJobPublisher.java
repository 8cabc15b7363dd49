package dev.timbre.local;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.timbre.config.InvalidConfigException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import java.util.concurrent.TimeoutException;

/**
 * Publishes job messages to a RabbitMQ queue the way producers should: persistent, mandatory, with a message id,
 * and with publisher confirms so that {@link #publish} returns only once the broker has taken responsibility.
 * A mandatory message no queue takes is returned ({@code basic.return}, before its confirm, which is still an ack):
 * that is a failure too, not a success. Thread-safe (one channel, publishes serialised).
 */
public final class AmqpJobPublisher implements JobPublisher {

    private final Connection connection;
    private final Channel channel;
    private final String queue;
    private volatile String returnedReason; // set by the return listener before the confirm arrives

    public AmqpJobPublisher(Connection connection, String queue) {
        this.connection = connection;
        this.queue = queue;
        try {
            this.channel = connection.createChannel();
            channel.confirmSelect();
            channel.addReturnListener(r -> returnedReason = r.getReplyCode() + " " + r.getReplyText());
        } catch (IOException e) {
            throw new IllegalStateException("cannot open a RabbitMQ channel: " + e.getMessage(), e);
        }
    }

    @Override
    public synchronized void publish(String body) {
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
                .contentType("application/json")
                .deliveryMode(2)
                .messageId(UUID.randomUUID().toString())
                .timestamp(new java.util.Date())
                .build();
        returnedReason = null;
        try {
            channel.basicPublish("", queue, true, props, body.getBytes(StandardCharsets.UTF_8));
            channel.waitForConfirmsOrDie(10_000);
        } catch (IOException | TimeoutException e) {
            throw new IllegalStateException("RabbitMQ did not confirm the publish to " + queue + ": "
                    + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while publishing to " + queue, e);
        }
        String returned = returnedReason;
        if (returned != null) {
            throw new InvalidConfigException("RabbitMQ returned the job message unroutable (" + returned
                    + "): no queue named " + queue + " (TIMBRE_AMQP_QUEUE); start the bridge once or declare it");
        }
    }

    @Override
    public String description() {
        return "RabbitMQ queue " + queue;
    }

    @Override
    public void close() {
        try {
            connection.close(5_000);
        } catch (IOException | RuntimeException ignored) {
            // already closed or broker gone; nothing left to release
        }
    }
}
