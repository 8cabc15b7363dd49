package dev.timbre.bridge.forward;

import com.rabbitmq.client.AMQP;

/**
 * One message taken from RabbitMQ and not yet settled.
 *
 * <p>Every delivery must be settled exactly once through its {@link #settler()}: acknowledged after SQS accepted it,
 * or dead-lettered. One that is never settled is redelivered by the broker when the channel closes.
 *
 * @param body the raw AMQP body
 * @param properties the AMQP properties (message id, correlation id, timestamp, headers)
 * @param redelivered the broker's redelivered flag: this message may already be in SQS
 * @param receivedNanos {@link System#nanoTime()} at arrival, for the forward-latency histogram
 * @param settler where the outcome goes
 */
public record Delivery(byte[] body, AMQP.BasicProperties properties, boolean redelivered, long receivedNanos,
                       DeliverySettler settler) {
}
