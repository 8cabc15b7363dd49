package dev.timbre.bridge.testing;

import java.net.URI;
import java.util.Map;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/** An in-JVM ElasticMQ on a free port, with a client for the test's own reads. Close it after the class. */
public final class ElasticMq implements AutoCloseable {

    private final SQSRestServer server;
    private final int port;
    private final SqsClient client;

    public ElasticMq() {
        server = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
        port = server.waitUntilStarted().localAddress().getPort();
        client = SqsClient.builder()
                .endpointOverride(endpoint())
                .region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("test", "test")))
                .build();
    }

    public URI endpoint() {
        return URI.create("http://127.0.0.1:" + port);
    }

    public int port() {
        return port;
    }

    public SqsClient client() {
        return client;
    }

    /** Creates a queue (FIFO when the name ends in .fifo) that accepts 1 MiB messages; returns its URL. */
    public URI createQueue(String name) {
        return createQueue(name, 1_048_576);
    }

    public URI createQueue(String name, int maximumMessageSize) {
        Map<QueueAttributeName, String> attrs = new java.util.HashMap<>();
        attrs.put(QueueAttributeName.MAXIMUM_MESSAGE_SIZE, Integer.toString(maximumMessageSize));
        attrs.put(QueueAttributeName.VISIBILITY_TIMEOUT, "120");
        if (name.endsWith(".fifo")) {
            attrs.put(QueueAttributeName.FIFO_QUEUE, "true");
        }
        return URI.create(client.createQueue(b -> b.queueName(name).attributes(attrs)).queueUrl());
    }

    @Override
    public void close() {
        client.close();
        server.stopAndWait();
    }
}
