package dev.timbre.local;

/** Where the demo and {@code submit} publish job messages: RabbitMQ (through the bridge) or SQS directly. */
public interface JobPublisher extends AutoCloseable {

    /** Publishes one job message; returns once the broker or queue has accepted it. */
    void publish(String body);

    /** One line for the screen: where messages go. */
    String description();

    @Override
    default void close() {
    }
}
