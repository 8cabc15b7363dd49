package dev.timbre.bridge.config;

import dev.timbre.common.config.AwsEnvironment;
import dev.timbre.common.config.ConfigException;
import dev.timbre.common.config.EnvReader;
import dev.timbre.common.logging.LogFormat;
import dev.timbre.common.secrets.AmqpUrl;
import dev.timbre.common.secrets.Redaction;
import java.net.URI;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;

/**
 * The bridge's whole configuration, read once from the environment (docs/architecture.md §8) and validated before anything
 * starts. No other class of the bridge reads the environment.
 *
 * <p>Immutable and thread-safe. {@link #fromEnv(Map)} throws {@link ConfigException} whose message is one line
 * naming the bad variable; {@link #describe()} renders the effective values with secrets masked. Values are read
 * through the rules both services share ({@code dev.timbre.common}: {@link EnvReader}, {@link AwsEnvironment},
 * {@link LogFormat}, {@link Redaction}).
 *
 * @param amqpUri broker URI, e.g. {@code amqp://guest:guest@127.0.0.1:5672/%2f} (the password is a secret)
 * @param amqpQueue the durable queue consumed
 * @param queueType type the queue is declared with when missing
 * @param deadLetterExchange exchange sender-fault messages are dead-lettered to
 * @param deadLetterQueue queue bound to {@code deadLetterExchange}
 * @param sqsQueueUrl target SQS queue; a name ending in {@code .fifo} makes the bridge set group and dedup ids
 * @param awsRegion SQS region
 * @param sqsEndpoint endpoint override ({@code AWS_ENDPOINT_URL_SQS}, else {@code AWS_ENDPOINT_URL}), if any
 * @param staticCredentials explicit credentials, when the environment names them or an endpoint override is local
 * @param prefetch AMQP prefetch count: with manual acks it is also the bound on messages held in memory
 * @param linger how long a partly filled batch waits for more entries
 * @param maxInFlightBatches how many {@code SendMessageBatch} calls run at once
 * @param httpPort port of {@code /healthz} and {@code /metrics}; 0 picks a free one
 * @param fifoGroupHeader AMQP header holding the FIFO group id; falls back to the same field of the JSON body
 * @param shutdownTimeout bound on SIGTERM handling: stop consuming, flush, ack, close
 * @param recoveryInterval delay between AMQP connection recovery attempts
 * @param logFormat {@code TIMBRE_LOG_FORMAT}; JSON inside ECS (and Lambda), text elsewhere ({@link LogFormat})
 */
public record BridgeConfig(
        URI amqpUri,
        String amqpQueue,
        QueueType queueType,
        String deadLetterExchange,
        String deadLetterQueue,
        URI sqsQueueUrl,
        String awsRegion,
        Optional<URI> sqsEndpoint,
        Optional<StaticCredentials> staticCredentials,
        int prefetch,
        Duration linger,
        int maxInFlightBatches,
        int httpPort,
        String fifoGroupHeader,
        Duration shutdownTimeout,
        Duration recoveryInterval,
        LogFormat logFormat) {

    /** How the consumed queue is declared when it does not exist yet. */
    public enum QueueType { QUORUM, CLASSIC }

    /**
     * Access key pair handed to the SQS client instead of the SDK's default provider chain, with the session token
     * that temporary credentials (an assumed role, SSO) need; empty for long-term keys.
     */
    public record StaticCredentials(String accessKeyId, String secretAccessKey, Optional<String> sessionToken) {
        public StaticCredentials(String accessKeyId, String secretAccessKey) {
            this(accessKeyId, secretAccessKey, Optional.empty());
        }

        @Override
        public String toString() {
            return "StaticCredentials[accessKeyId=" + accessKeyId + ", secretAccessKey=****"
                    + sessionToken.map(t -> ", sessionToken=****").orElse("") + "]";
        }
    }

    public BridgeConfig {
        // Records built directly (tests) get the same checks as the environment path.
        if (prefetch < 1 || prefetch > 65_535) {
            throw new ConfigException("TIMBRE_BRIDGE_PREFETCH", "must be a whole number from 1 to 65535, was " + prefetch);
        }
        if (maxInFlightBatches < 1 || maxInFlightBatches > 256) {
            throw new ConfigException("TIMBRE_BRIDGE_MAX_IN_FLIGHT_BATCHES",
                    "must be a whole number from 1 to 256, was " + maxInFlightBatches);
        }
    }

    /** True when the target is a FIFO queue: entries then need {@code MessageGroupId} and a deduplication id. */
    public boolean fifo() {
        return sqsQueueUrl.getPath().endsWith(".fifo");
    }

    /**
     * Reads and validates the configuration.
     *
     * @param env the process environment (or a test's map)
     * @throws ConfigException naming the first missing or malformed variable
     */
    public static BridgeConfig fromEnv(Map<String, String> env) {
        return fromEnv(env, Runtime.getRuntime().maxMemory());
    }

    /**
     * As {@link #fromEnv(Map)}, for a process whose heap holds at most {@code maxHeapBytes} (the default prefetch
     * depends on it).
     */
    public static BridgeConfig fromEnv(Map<String, String> env, long maxHeapBytes) {
        try {
            return read(env, maxHeapBytes);
        } catch (ConfigException e) {
            // the last line of defence: whatever a check put in the message, this environment's secrets (secret
            // variables, URL user-info, password parameters, any 6-character piece of one) leave as ****
            return throwRedacted(e, env);
        }
    }

    private static BridgeConfig throwRedacted(ConfigException e, Map<String, String> env) {
        String problem = Redaction.text(e.problem(), env);
        throw problem.equals(e.problem()) ? e
                : e.variable().map(v -> new ConfigException(v, problem)).orElseGet(() -> new ConfigException(problem));
    }

    /** Largest body the bridge ever holds: SQS's message size limit; larger ones are dropped unread. */
    public static final long MAX_HELD_MESSAGE_BYTES = 1L << 20;

    /**
     * The default prefetch: 500, or fewer when 500 messages of {@link #MAX_HELD_MESSAGE_BYTES} would take more than
     * half of the heap. Unacked deliveries are held in memory, so the prefetch is the bridge's memory bound; with
     * the old fixed 500 a 512 MB task (384 MiB heap) could be killed by a burst of large messages.
     */
    public static int defaultPrefetch(long maxHeapBytes) {
        return (int) Math.max(1, Math.min(500, maxHeapBytes / 2 / MAX_HELD_MESSAGE_BYTES));
    }

    /** True when {@code prefetch} messages of the largest size would not fit in half of the heap. */
    public boolean prefetchExceedsHeap(long maxHeapBytes) {
        return (long) prefetch * MAX_HELD_MESSAGE_BYTES > maxHeapBytes / 2;
    }

    private static BridgeConfig read(Map<String, String> env, long maxHeapBytes) {
        EnvReader r = new EnvReader(env);
        // checked as RabbitMQ's ConnectionFactory.setUri will read it, with reasons that never quote the URL
        URI amqpUri = r.required("TIMBRE_AMQP_URL", AmqpUrl::parse);
        String queue = r.optional("TIMBRE_AMQP_QUEUE", EnvReader::name, "voice_processing");
        QueueType queueType = QueueType.valueOf(r.optional("TIMBRE_BRIDGE_QUEUE_TYPE",
                EnvReader.oneOf("quorum", "classic"), "quorum").toUpperCase(Locale.ROOT));
        String dlx = r.optional("TIMBRE_BRIDGE_DLX", EnvReader::name, queue + ".dlx");
        String dlq = r.optional("TIMBRE_BRIDGE_DLQ", EnvReader::name, queue + ".dlq");
        URI queueUrl = r.required("TIMBRE_QUEUE_URL", EnvReader::httpUrl);
        Optional<URI> endpoint = AwsEnvironment.endpoint(r, "AWS_ENDPOINT_URL_SQS");
        // a local endpoint (ElasticMQ) has no region chain to fall back on; real AWS must say where it is
        String region = AwsEnvironment.region(r, endpoint.isPresent());
        Optional<String> keyId = r.optional("AWS_ACCESS_KEY_ID");
        Optional<StaticCredentials> credentials;
        if (keyId.isPresent()) {
            credentials = Optional.of(new StaticCredentials(keyId.get(), r.required("AWS_SECRET_ACCESS_KEY"),
                    r.optional("AWS_SESSION_TOKEN")));
        } else if (endpoint.isPresent()) {
            credentials = Optional.of(new StaticCredentials("local", "local"));
        } else {
            credentials = Optional.empty(); // the SDK's chain: ECS task role, profile, ...
        }
        int prefetch = r.integer("TIMBRE_BRIDGE_PREFETCH", defaultPrefetch(maxHeapBytes), 1, 65_535);
        Duration linger = Duration.ofMillis(r.integer("TIMBRE_BRIDGE_LINGER_MS", 5, 0, 10_000));
        int inFlight = r.integer("TIMBRE_BRIDGE_MAX_IN_FLIGHT_BATCHES", 8, 1, 256);
        int port = r.integer("TIMBRE_BRIDGE_HTTP_PORT", 8080, 0, 65_535);
        String groupHeader = r.optional("TIMBRE_BRIDGE_FIFO_GROUP_HEADER", EnvReader::name, "voice_id");
        Duration shutdown = Duration.ofMillis(r.integer("TIMBRE_BRIDGE_SHUTDOWN_TIMEOUT_MS", 20_000, 100, 600_000));
        Duration recovery = Duration.ofMillis(r.integer("TIMBRE_BRIDGE_AMQP_RECOVERY_MS", 2_000, 10, 600_000));
        // TIMBRE_LOG_FORMAT, AWS_LAMBDA_FUNCTION_NAME, ECS_CONTAINER_METADATA_URI_V4: the rule of every service
        LogFormat logFormat = LogFormat.read(r);
        return new BridgeConfig(amqpUri, queue, queueType, dlx, dlq, queueUrl, region, endpoint, credentials,
                prefetch, linger, inFlight, port, groupHeader, shutdown, recovery, logFormat);
    }

    /**
     * Effective values, one {@code key=value} per entry, passwords and secret keys masked: every value passes
     * {@link Redaction#url}, so even a name that holds a URL with credentials is shown without them.
     */
    public Map<String, String> describe() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("TIMBRE_AMQP_URL", amqpUri.toString());
        m.put("TIMBRE_AMQP_QUEUE", amqpQueue);
        m.put("TIMBRE_BRIDGE_QUEUE_TYPE", queueType.name().toLowerCase(Locale.ROOT));
        m.put("TIMBRE_BRIDGE_DLX", deadLetterExchange);
        m.put("TIMBRE_BRIDGE_DLQ", deadLetterQueue);
        m.put("TIMBRE_QUEUE_URL", sqsQueueUrl.toString());
        m.put("AWS_REGION", awsRegion);
        m.put("AWS_ENDPOINT_URL_SQS", sqsEndpoint.map(URI::toString).orElse("(sdk default)"));
        m.put("credentials", staticCredentials.map(c -> c.accessKeyId() + "/****").orElse("(sdk default chain)"));
        m.put("TIMBRE_BRIDGE_PREFETCH", Integer.toString(prefetch));
        m.put("TIMBRE_BRIDGE_LINGER_MS", Long.toString(linger.toMillis()));
        m.put("TIMBRE_BRIDGE_MAX_IN_FLIGHT_BATCHES", Integer.toString(maxInFlightBatches));
        m.put("TIMBRE_BRIDGE_HTTP_PORT", Integer.toString(httpPort));
        m.put("TIMBRE_BRIDGE_FIFO_GROUP_HEADER", fifoGroupHeader + (fifo() ? "" : " (unused: standard queue)"));
        m.put("TIMBRE_BRIDGE_SHUTDOWN_TIMEOUT_MS", Long.toString(shutdownTimeout.toMillis()));
        m.put("TIMBRE_BRIDGE_AMQP_RECOVERY_MS", Long.toString(recoveryInterval.toMillis()));
        m.put("TIMBRE_LOG_FORMAT", logFormat.value());
        m.replaceAll((name, value) -> Redaction.url(value));
        return m;
    }

    @Override
    public String toString() {
        return "BridgeConfig" + describe();
    }
}
