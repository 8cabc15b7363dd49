package dev.timbre.bridge.testing;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The real RabbitMQ on 127.0.0.1:5672 (guest/guest), for publishing test messages with confirms and cleaning up the
 * uniquely named queues a test used. Not thread-safe.
 */
public final class Rabbit implements AutoCloseable {

    public static final String HOST = "127.0.0.1";
    public static final int PORT = 5672;

    private final Connection connection;
    private final Channel channel;
    private final List<String> queuesToDelete = new ArrayList<>();
    private final List<String> exchangesToDelete = new ArrayList<>();

    public Rabbit() throws Exception {
        ConnectionFactory f = new ConnectionFactory();
        f.setHost(HOST);
        f.setPort(PORT);
        f.setAutomaticRecoveryEnabled(false);
        connection = f.newConnection("bridge-test");
        channel = connection.createChannel();
        channel.confirmSelect();
    }

    public static URI amqpUri(int port) {
        return URI.create("amqp://guest:guest@" + HOST + ":" + port + "/%2f");
    }

    /** A queue name no other test uses; it and its dead-letter queue/exchange are deleted on close. */
    public String uniqueQueue(String label) {
        String q = "bridge-test-" + label + "-" + UUID.randomUUID().toString().substring(0, 8);
        queuesToDelete.add(q);
        queuesToDelete.add(q + ".dlq");
        exchangesToDelete.add(q + ".dlx");
        return q;
    }

    /** A job-like JSON body of about {@code size} bytes. */
    public static String jobBody(int n, String voiceId, int size) {
        String head = "{\"job_id\":\"" + new UUID(0, n) + "\",\"voice_id\":\"" + voiceId
                + "\",\"s3_key\":\"uploads/" + n + ".wav\",\"metadata\":{\"pad\":\"";
        StringBuilder sb = new StringBuilder(head);
        while (sb.length() < size - 3) {
            sb.append('x');
        }
        return sb.append("\"}}").toString();
    }

    public void publish(String queue, String messageId, byte[] body, Map<String, Object> headers) throws Exception {
        AMQP.BasicProperties props = new AMQP.BasicProperties.Builder()
                .messageId(messageId).correlationId("corr-" + messageId).timestamp(new Date(1_700_000_000_000L))
                .contentType("application/json").deliveryMode(2).headers(headers).build();
        channel.basicPublish("", queue, props, body);
    }

    /** Publishes {@code n} job messages with ids {@code prefix-0..n-1}; returns the ids. */
    public List<String> publishJobs(String queue, String prefix, int n, int size) throws Exception {
        List<String> ids = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            String id = prefix + "-" + i;
            publish(queue, id, jobBody(i, "voice-" + (i % 7), size).getBytes(StandardCharsets.UTF_8),
                    Map.of("voice_id", "voice-" + (i % 7), "seq", i));
            ids.add(id);
        }
        confirm();
        return ids;
    }

    public void confirm() throws Exception {
        channel.waitForConfirmsOrDie(30_000);
    }

    /** Messages ready in a queue (not counting unacked ones). */
    public int ready(String queue) throws Exception {
        return channel.queueDeclarePassive(queue).getMessageCount();
    }

    /** {@link #ready} for lambdas; -1 when the queue cannot be read. */
    public int readyUnchecked(String queue) {
        // A passive declare of a missing queue closes its channel: use a throwaway one.
        try (Channel probe = connection.createChannel()) {
            return probe.queueDeclarePassive(queue).getMessageCount();
        } catch (Exception e) {
            return -1;
        }
    }

    public GetResponse get(String queue) throws Exception {
        return channel.basicGet(queue, true);
    }

    public Channel channel() {
        return channel;
    }

    @Override
    public void close() throws IOException {
        for (String q : queuesToDelete) {
            channel.queueDelete(q);
        }
        for (String x : exchangesToDelete) {
            channel.exchangeDelete(x);
        }
        connection.close();
    }
}
