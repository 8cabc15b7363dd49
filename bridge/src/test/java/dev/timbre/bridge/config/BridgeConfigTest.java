package dev.timbre.bridge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.common.config.ConfigException;
import java.util.HashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BridgeConfigTest {

    private static Map<String, String> minimal() {
        Map<String, String> env = new HashMap<>();
        env.put("TIMBRE_AMQP_URL", "amqp://bridge:s3cret@rabbit.internal:5672/%2f");
        env.put("TIMBRE_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs");
        env.put("AWS_REGION", "eu-west-1");
        return env;
    }

    @Test
    void minimalEnvironmentGetsTheDocumentedDefaults() {
        BridgeConfig c = BridgeConfig.fromEnv(minimal(), 4L << 30);
        assertEquals("voice_processing", c.amqpQueue());
        assertEquals(BridgeConfig.QueueType.QUORUM, c.queueType());
        assertEquals("voice_processing.dlx", c.deadLetterExchange());
        assertEquals(500, c.prefetch());
        assertEquals(8, c.maxInFlightBatches());
        assertEquals("voice_id", c.fifoGroupHeader());
        assertTrue(c.staticCredentials().isEmpty(), "real AWS uses the SDK's provider chain");
        assertFalse(c.fifo());
    }

    @Test
    void theDefaultPrefetchKeepsTheLargestMessagesItHoldsWithinHalfTheHeap() {
        // the 512 MB ECS task runs with MaxRAMPercentage=75: a 384 MiB heap holds 192 messages of 1 MiB in half
        BridgeConfig task = BridgeConfig.fromEnv(minimal(), 384L << 20);
        assertEquals(192, task.prefetch());
        assertFalse(task.prefetchExceedsHeap(384L << 20));
        assertEquals(500, BridgeConfig.fromEnv(minimal(), 4L << 30).prefetch(), "capped at 500 on a large heap");
        assertEquals(1, BridgeConfig.defaultPrefetch(1L << 20), "never below one");

        Map<String, String> env = minimal();
        env.put("TIMBRE_BRIDGE_PREFETCH", "500");
        BridgeConfig explicit = BridgeConfig.fromEnv(env, 384L << 20);
        assertEquals(500, explicit.prefetch(), "an explicit value is kept");
        assertTrue(explicit.prefetchExceedsHeap(384L << 20), "and warned about at start");
    }

    @Test
    void temporaryCredentialsKeepTheirSessionToken() {
        Map<String, String> env = minimal();
        env.put("AWS_ACCESS_KEY_ID", "ASIAEXAMPLE");
        env.put("AWS_SECRET_ACCESS_KEY", "secret-key-value");
        env.put("AWS_SESSION_TOKEN", "session-token-value");
        BridgeConfig.StaticCredentials c = BridgeConfig.fromEnv(env).staticCredentials().orElseThrow();
        assertEquals(java.util.Optional.of("session-token-value"), c.sessionToken());
        assertFalse(c.toString().contains("session-token-value"), c.toString());
        env.remove("AWS_SESSION_TOKEN");
        assertTrue(BridgeConfig.fromEnv(env).staticCredentials().orElseThrow().sessionToken().isEmpty());
    }

    @Test
    void missingVariableIsNamedInOneLine() {
        Map<String, String> env = minimal();
        env.remove("TIMBRE_QUEUE_URL");
        ConfigException e = assertThrows(ConfigException.class, () -> BridgeConfig.fromEnv(env));
        assertEquals(Optional.of("TIMBRE_QUEUE_URL"), e.variable());
        assertEquals("TIMBRE_QUEUE_URL is required but not set", e.getMessage());
        assertFalse(e.getMessage().contains("\n"));
    }

    @Test
    void malformedKnobIsNamedWithTheRule() {
        Map<String, String> env = minimal();
        env.put("TIMBRE_BRIDGE_PREFETCH", "lots");
        ConfigException e = assertThrows(ConfigException.class, () -> BridgeConfig.fromEnv(env));
        // the wording both services share (dev.timbre.common.config.EnvReader)
        assertEquals("TIMBRE_BRIDGE_PREFETCH must be a whole number from 1 to 65535, was \"lots\"", e.getMessage());
        env.put("TIMBRE_BRIDGE_PREFETCH", "10");
        env.put("TIMBRE_BRIDGE_QUEUE_TYPE", "stream");
        assertEquals(Optional.of("TIMBRE_BRIDGE_QUEUE_TYPE"),
                assertThrows(ConfigException.class, () -> BridgeConfig.fromEnv(env)).variable());
        env.remove("TIMBRE_BRIDGE_QUEUE_TYPE");
        env.put("TIMBRE_AMQP_URL", "http://rabbit");
        assertEquals(Optional.of("TIMBRE_AMQP_URL"),
                assertThrows(ConfigException.class, () -> BridgeConfig.fromEnv(env)).variable());
    }

    @Test
    void secretsAreMaskedInTheDescription() {
        Map<String, String> env = minimal();
        env.put("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE");
        env.put("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI");
        String described = BridgeConfig.fromEnv(env).toString();
        assertFalse(described.contains("s3cret"), described);
        assertFalse(described.contains("wJalrXUtnFEMI"), described);
        assertTrue(described.contains("amqp://bridge:****@rabbit.internal:5672/%2f"), described);
    }

    @Test
    void localEndpointNeedsNoRegionOrCredentialsAndFifoIsRecognised() {
        Map<String, String> env = minimal();
        env.remove("AWS_REGION");
        env.put("AWS_ENDPOINT_URL", "http://127.0.0.1:9324");
        env.put("TIMBRE_QUEUE_URL", "http://127.0.0.1:9324/000000000000/jobs.fifo");
        BridgeConfig c = BridgeConfig.fromEnv(env);
        assertEquals("us-east-1", c.awsRegion());
        assertTrue(c.staticCredentials().isPresent());
        assertTrue(c.fifo());
    }

    @Test
    void realAwsNeedsTheRegion() {
        Map<String, String> env = minimal();
        env.remove("AWS_REGION");
        ConfigException e = assertThrows(ConfigException.class, () -> BridgeConfig.fromEnv(env));
        assertEquals(Optional.of("AWS_REGION"), e.variable());
    }

    /** The bridge wrote text logs on ECS unless told otherwise; the functions' rule says JSON there. */
    @Test
    void logsAreJsonOnEcsByDefaultAndTextLocally() {
        Map<String, String> env = minimal();
        assertEquals("text", String.valueOf(BridgeConfig.fromEnv(env).logFormat()).toLowerCase(Locale.ROOT));
        env.put("ECS_CONTAINER_METADATA_URI_V4", "http://169.254.170.2/v4/task");
        assertEquals("json", String.valueOf(BridgeConfig.fromEnv(env).logFormat()).toLowerCase(Locale.ROOT));
        env.put("TIMBRE_LOG_FORMAT", "text");
        assertEquals("text", String.valueOf(BridgeConfig.fromEnv(env).logFormat()).toLowerCase(Locale.ROOT));
    }
}
