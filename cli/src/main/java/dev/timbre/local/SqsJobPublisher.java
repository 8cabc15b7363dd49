package dev.timbre.local;

import software.amazon.awssdk.services.sqs.SqsClient;

/** Publishes straight to the jobs queue, for setups without RabbitMQ. */
public final class SqsJobPublisher implements JobPublisher {

    private final SqsClient sqs;
    private final String queueUrl;

    public SqsJobPublisher(SqsClient sqs, String queueUrl) {
        this.sqs = sqs;
        this.queueUrl = queueUrl;
    }

    @Override
    public void publish(String body) {
        sqs.sendMessage(b -> b.queueUrl(queueUrl).messageBody(body));
    }

    @Override
    public String description() {
        return "SQS " + queueUrl;
    }
}
