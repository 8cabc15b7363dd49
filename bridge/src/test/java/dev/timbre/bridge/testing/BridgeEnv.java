package dev.timbre.bridge.testing;

import java.net.URI;
import java.util.HashMap;
import java.util.Map;

/** Builds the environment a bridge under test reads: RabbitMQ (or a proxy port), ElasticMQ, small knobs. */
public final class BridgeEnv {

    private final Map<String, String> env = new HashMap<>();

    public BridgeEnv(int amqpPort, String queue, URI sqsEndpoint, URI queueUrl) {
        env.put("TIMBRE_AMQP_URL", Rabbit.amqpUri(amqpPort).toString());
        env.put("TIMBRE_AMQP_QUEUE", queue);
        env.put("TIMBRE_QUEUE_URL", queueUrl.toString());
        env.put("AWS_ENDPOINT_URL_SQS", sqsEndpoint.toString());
        env.put("AWS_REGION", "us-east-1");
        env.put("TIMBRE_BRIDGE_HTTP_PORT", "0");
        env.put("TIMBRE_BRIDGE_AMQP_RECOVERY_MS", "300");
        env.put("TIMBRE_BRIDGE_SHUTDOWN_TIMEOUT_MS", "10000");
    }

    public BridgeEnv with(String key, String value) {
        env.put(key, value);
        return this;
    }

    public Map<String, String> map() {
        return Map.copyOf(env);
    }
}
