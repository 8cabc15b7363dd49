package dev.timbre.notify;

import dev.timbre.config.TimbreConfig;
import java.time.Duration;
import java.util.Optional;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.eventbridge.EventBridgeClientBuilder;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.SqsClientBuilder;

/** Picks the event sink the configuration names (docs/architecture.md §13): the bus, the queue, or none. */
public final class EventSinks {

    /**
     * A request to the sink is bounded: a sink that hangs must not hold the sweeper (or a Lambda invocation) past
     * its budget; the events stay in the outbox and go on the next sweep.
     */
    static final ClientOverrideConfiguration BOUNDED = ClientOverrideConfiguration.builder()
            .apiCallAttemptTimeout(Duration.ofSeconds(3))
            .apiCallTimeout(Duration.ofSeconds(8))
            .build();

    private EventSinks() {
    }

    /** The configured sink, or empty when neither {@code TIMBRE_EVENTS_BUS} nor {@code TIMBRE_EVENTS_QUEUE_URL} is set. */
    public static Optional<EventSink> fromConfig(TimbreConfig config) {
        TimbreConfig.EventSettings events = config.events();
        if (events.bus().isPresent()) {
            EventBridgeClientBuilder builder = EventBridgeClient.builder()
                    .region(Region.of(config.awsRegion()))
                    .credentialsProvider(DefaultCredentialsProvider.builder().build())
                    .httpClient(UrlConnectionHttpClient.create())
                    .overrideConfiguration(BOUNDED);
            events.eventBridgeEndpoint().ifPresent(builder::endpointOverride);
            return Optional.of(new EventBridgeSink(builder.build(), events.bus().get()));
        }
        if (events.queueUrl().isPresent()) {
            SqsClientBuilder builder = SqsClient.builder()
                    .region(Region.of(config.awsRegion()))
                    .credentialsProvider(DefaultCredentialsProvider.builder().build())
                    .httpClient(UrlConnectionHttpClient.create())
                    .overrideConfiguration(BOUNDED);
            config.sqsEndpoint().ifPresent(builder::endpointOverride);
            return Optional.of(new SqsEventSink(builder.build(), events.queueUrl().get().toString()));
        }
        return Optional.empty();
    }
}
