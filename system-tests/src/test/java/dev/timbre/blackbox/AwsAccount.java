package dev.timbre.blackbox;

import java.net.URI;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * The AWS side of a run as an operator sees it: where S3, SQS (and Secrets Manager) answer, the credentials, the
 * environment variables the commands get (README's table: {@code AWS_ENDPOINT_URL_S3}, {@code AWS_ENDPOINT_URL_SQS}
 * or one {@code AWS_ENDPOINT_URL}, {@code AWS_REGION}, {@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY}),
 * and admin clients for what an operator does with the AWS CLI: create the bucket, the queues and the secret, and
 * look into the queues.
 */
final class AwsAccount implements AutoCloseable {

    /** A jobs queue and its dead-letter queue. */
    record Queues(String queueUrl, String dlqUrl) {
    }

    private final Map<String, String> env;
    private final S3Client s3;
    private final SqsClient sqs;
    private final Optional<SecretsManagerClient> secrets;

    private AwsAccount(Map<String, String> env, URI s3Endpoint, URI sqsEndpoint, Optional<URI> secretsEndpoint) {
        this.env = Map.copyOf(env);
        String region = env.get("AWS_REGION");
        StaticCredentialsProvider credentials = StaticCredentialsProvider.create(AwsBasicCredentials.create(
                env.get("AWS_ACCESS_KEY_ID"), env.get("AWS_SECRET_ACCESS_KEY")));
        this.s3 = S3Client.builder().endpointOverride(s3Endpoint).forcePathStyle(true).region(Region.of(region))
                .credentialsProvider(credentials).httpClient(UrlConnectionHttpClient.create()).build();
        this.sqs = SqsClient.builder().endpointOverride(sqsEndpoint).region(Region.of(region))
                .credentialsProvider(credentials).httpClient(UrlConnectionHttpClient.create()).build();
        this.secrets = secretsEndpoint.map(endpoint -> SecretsManagerClient.builder().endpointOverride(endpoint)
                .region(Region.of(region)).credentialsProvider(credentials)
                .httpClient(UrlConnectionHttpClient.create()).build());
    }

    /** ElasticMQ and S3Proxy as separate servers: one endpoint variable per service. */
    static AwsAccount localServers(URI s3Endpoint, URI sqsEndpoint, String accessKey, String secretKey) {
        Map<String, String> env = new HashMap<>();
        env.put("AWS_ENDPOINT_URL_S3", s3Endpoint.toString());
        env.put("AWS_ENDPOINT_URL_SQS", sqsEndpoint.toString());
        env.put("AWS_REGION", "us-east-1");
        env.put("AWS_ACCESS_KEY_ID", accessKey);
        env.put("AWS_SECRET_ACCESS_KEY", secretKey);
        return new AwsAccount(env, s3Endpoint, sqsEndpoint, Optional.empty());
    }

    /** One endpoint for every service (LocalStack): {@code AWS_ENDPOINT_URL} only. */
    static AwsAccount singleEndpoint(URI endpoint, String region, String accessKey, String secretKey) {
        Map<String, String> env = new HashMap<>();
        env.put("AWS_ENDPOINT_URL", endpoint.toString());
        env.put("AWS_REGION", region);
        env.put("AWS_ACCESS_KEY_ID", accessKey);
        env.put("AWS_SECRET_ACCESS_KEY", secretKey);
        return new AwsAccount(env, endpoint, endpoint, Optional.of(endpoint));
    }

    /** The AWS variables a command gets. */
    Map<String, String> env() {
        return env;
    }

    SqsClient sqs() {
        return sqs;
    }

    void createBucket(String bucket) {
        s3.createBucket(b -> b.bucket(bucket));
    }

    /** {@code name} and {@code name-dlq}; SQS moves a message to the DLQ after {@code maxReceiveCount} receives. */
    Queues createQueues(String name, int maxReceiveCount, Duration visibilityTimeout) {
        String visibility = String.valueOf(visibilityTimeout.toSeconds());
        String dlqUrl = sqs.createQueue(b -> b.queueName(name + "-dlq")
                .attributes(Map.of(QueueAttributeName.VISIBILITY_TIMEOUT, visibility))).queueUrl();
        String dlqArn = sqs.getQueueAttributes(b -> b.queueUrl(dlqUrl).attributeNames(QueueAttributeName.QUEUE_ARN))
                .attributes().get(QueueAttributeName.QUEUE_ARN);
        String redrive = "{\"deadLetterTargetArn\":\"" + dlqArn + "\",\"maxReceiveCount\":\"" + maxReceiveCount + "\"}";
        String queueUrl = sqs.createQueue(b -> b.queueName(name).attributes(Map.of(
                QueueAttributeName.VISIBILITY_TIMEOUT, visibility,
                QueueAttributeName.REDRIVE_POLICY, redrive))).queueUrl();
        return new Queues(queueUrl, dlqUrl);
    }

    /** Creates a Secrets Manager secret and returns its ARN (only where this account has Secrets Manager). */
    String createSecret(String name, String value) {
        SecretsManagerClient client = secrets.orElseThrow(() -> new IllegalStateException("no Secrets Manager here"));
        return client.createSecret(b -> b.name(name).secretString(value)).arn();
    }

    @Override
    public void close() {
        s3.close();
        sqs.close();
        secrets.ifPresent(SecretsManagerClient::close);
    }
}
