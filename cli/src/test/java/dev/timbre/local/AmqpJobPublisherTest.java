package dev.timbre.local;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.timbre.config.InvalidConfigException;
import java.nio.charset.StandardCharsets;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Publishing job messages to the real RabbitMQ on 127.0.0.1:5672. */
class AmqpJobPublisherTest {

    private static Connection connect() throws Exception {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost("127.0.0.1");
        f.setPort(5672);
        return f.newConnection("publisher-test");
    }

    @Test
    void aMessageNoQueueTakesIsAFailureNamingTheQueueNotASuccess() throws Exception {
        String missing = "no-such-queue-" + UUID.randomUUID();
        try (AmqpJobPublisher publisher = new AmqpJobPublisher(connect(), missing)) {
            InvalidConfigException e = assertThrows(InvalidConfigException.class,
                    () -> publisher.publish("{\"job_id\":\"x\"}"));
            assertTrue(e.getMessage().contains(missing) && e.getMessage().contains("312 NO_ROUTE"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"), "one line");
        }
    }

    @Test
    void aRoutedMessageIsConfirmedAndInTheQueue() throws Exception {
        String queue = "publisher-test-" + UUID.randomUUID();
        try (Connection admin = connect(); Channel ch = admin.createChannel()) {
            ch.queueDeclare(queue, false, false, true, null);
            try (AmqpJobPublisher publisher = new AmqpJobPublisher(connect(), queue)) {
                publisher.publish("{\"job_id\":\"y\"}");
                // the same publisher keeps working after a success (the returned flag is per publish)
                publisher.publish("{\"job_id\":\"z\"}");
            }
            assertEquals(2, ch.queueDeclarePassive(queue).getMessageCount());
            assertEquals("{\"job_id\":\"y\"}", new String(ch.basicGet(queue, true).getBody(), StandardCharsets.UTF_8));
            ch.queueDelete(queue);
        }
    }
}
