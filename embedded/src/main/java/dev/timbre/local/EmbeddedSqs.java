package dev.timbre.local;

import java.net.URI;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.CreateQueueRequest;
import software.amazon.awssdk.services.sqs.model.GetQueueAttributesRequest;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * A real SQS protocol server inside this JVM (ElasticMQ), on 127.0.0.1 and a free port, for the local demo
 * and tests. Speaks the AWS JSON protocol the SDK uses; supports redrive policies, visibility changes, batches,
 * {@code ApproximateReceiveCount} and FIFO queues.
 *
 * <p>Thread-safe. The caller closes it; {@link #close()} stops the server and waits for it.
 */
public final class EmbeddedSqs implements AutoCloseable {

    /** ElasticMQ ignores signatures, but the SDK insists on signing with something. */
    public static final String ACCESS_KEY = "timbre-local";
    public static final String SECRET_KEY = "timbre-local-secret";
    public static final String REGION = "us-east-1";

    private static final Logger log = LoggerFactory.getLogger(EmbeddedSqs.class);

    private final SQSRestServer server;
    private final URI endpoint;
    private final SqsClient adminClient;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** A job queue and its dead-letter queue. */
    public record QueuePair(String queueUrl, String dlqUrl, String dlqArn) {
    }

    private EmbeddedSqs(SQSRestServer server, int port) {
        this.server = server;
        this.endpoint = URI.create("http://127.0.0.1:" + port);
        this.adminClient = newClient();
    }

    /** Starts a server on 127.0.0.1 and a free port; returns once it accepts connections. */
    public static EmbeddedSqs start() {
        long started = System.nanoTime();
        SQSRestServer server = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
        int port = server.waitUntilStarted().localAddress().getPort();
        log.info("embedded SQS started: endpoint=http://127.0.0.1:{} ms={}", port,
                (System.nanoTime() - started) / 1_000_000);
        return new EmbeddedSqs(server, port);
    }

    /** Where SDK clients send requests ({@code AWS_ENDPOINT_URL_SQS}). */
    public URI endpoint() {
        return endpoint;
    }

    /** The environment a Timbre process needs to reach this server. */
    public Map<String, String> env() {
        return Map.of("AWS_ENDPOINT_URL_SQS", endpoint.toString(), "AWS_REGION", REGION,
                "AWS_ACCESS_KEY_ID", ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    }

    /** A new SDK client for this server; the caller closes it. */
    public SqsClient newClient() {
        return SqsClient.builder()
                .endpointOverride(endpoint)
                .region(Region.of(REGION))
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .httpClient(UrlConnectionHttpClient.create())
                .build();
    }

    /**
     * Creates a standard queue (or returns the existing one of that name).
     *
     * @return its queue URL
     */
    public String createQueue(String name, Duration visibilityTimeout) {
        return adminClient.createQueue(CreateQueueRequest.builder()
                .queueName(name)
                .attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT,
                        String.valueOf(visibilityTimeout.toSeconds())))
                .build()).queueUrl();
    }

    /**
     * Creates {@code name} and {@code name-dlq}, with a redrive policy that moves a message to the DLQ once it
     * has been received {@code maxReceiveCount} times without being deleted (on the next receive after that).
     */
    public QueuePair createQueueWithDlq(String name, int maxReceiveCount, Duration visibilityTimeout) {
        String dlqUrl = createQueue(name + "-dlq", visibilityTimeout);
        String dlqArn = adminClient.getQueueAttributes(GetQueueAttributesRequest.builder()
                        .queueUrl(dlqUrl).attributeNames(QueueAttributeName.QUEUE_ARN).build())
                .attributes().get(QueueAttributeName.QUEUE_ARN);
        String redrivePolicy = "{\"deadLetterTargetArn\":\"" + dlqArn + "\",\"maxReceiveCount\":\""
                + maxReceiveCount + "\"}";
        String queueUrl = adminClient.createQueue(CreateQueueRequest.builder()
                .queueName(name)
                .attributes(Map.of(
                        QueueAttributeName.VISIBILITY_TIMEOUT, String.valueOf(visibilityTimeout.toSeconds()),
                        QueueAttributeName.REDRIVE_POLICY, redrivePolicy))
                .build()).queueUrl();
        return new QueuePair(queueUrl, dlqUrl, dlqArn);
    }

    /** Stops the server and waits for it; idempotent. */
    @Override
    public void close() {
        if (!closed.compareAndSet(false, true)) {
            return;
        }
        adminClient.close();
        server.stopAndWait();
        log.info("embedded SQS stopped: endpoint={}", endpoint);
    }
}
