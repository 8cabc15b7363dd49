package dev.timbre.bridge.config;

import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;

/**
 * The bridge's whole configuration, read once from the environment (docs/architecture.md §8) and validated before anything
 * starts. No other class of the bridge reads the environment.
 *
 * <p>Immutable and thread-safe. {@link #fromEnv(Map)} throws {@link BridgeConfigException} whose message is one
 * line naming the bad variable; {@link #describe()} renders the effective values with secrets masked.
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
 * @param logFormat {@code json} or {@code text}
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
        String logFormat) {

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
            throw new BridgeConfigException("TIMBRE_BRIDGE_PREFETCH", "must be 1..65535, got " + prefetch);
        }
        if (maxInFlightBatches < 1 || maxInFlightBatches > 256) {
            throw new BridgeConfigException("TIMBRE_BRIDGE_MAX_IN_FLIGHT_BATCHES", "must be 1..256, got " + maxInFlightBatches);
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
     * @throws BridgeConfigException naming the first missing or malformed variable
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
        } catch (BridgeConfigException e) {
            // the last line of defence: whatever a check put in the message, this environment's secrets (secret
            // variables, URL user-info, password parameters, any 6-character piece of one) leave as ****
            return throwRedacted(e, env);
        }
    }

    private static BridgeConfig throwRedacted(BridgeConfigException e, Map<String, String> env) {
        String problem = Redaction.text(e.problem(), env);
        throw problem.equals(e.problem()) ? e : new BridgeConfigException(e.variable(), problem);
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
        Reader r = new Reader(env);
        // checked as RabbitMQ's ConnectionFactory.setUri will read it, with reasons that never quote the URL
        URI amqpUri = r.required("TIMBRE_AMQP_URL", AmqpUrl::parse);
        String queue = r.optional("TIMBRE_AMQP_QUEUE", Reader::name, "voice_processing");
        QueueType queueType = r.optional("TIMBRE_BRIDGE_QUEUE_TYPE", v -> {
            try {
                return QueueType.valueOf(v.toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) { // its message repeats the value, upper-cased
                throw new IllegalArgumentException("must be quorum or classic");
            }
        }, QueueType.QUORUM);
        String dlx = r.optional("TIMBRE_BRIDGE_DLX", Reader::name, queue + ".dlx");
        String dlq = r.optional("TIMBRE_BRIDGE_DLQ", Reader::name, queue + ".dlq");
        URI queueUrl = r.required("TIMBRE_QUEUE_URL", Reader::httpUri);
        Optional<URI> endpoint = Optional.ofNullable(
                r.optional("AWS_ENDPOINT_URL_SQS", Reader::httpUri,
                        r.optional("AWS_ENDPOINT_URL", Reader::httpUri, null)));
        // A local endpoint (ElasticMQ) has no region chain to fall back on; real AWS must say where it is.
        String region = endpoint.isPresent()
                ? r.optional("AWS_REGION", Reader::name, "us-east-1")
                : r.required("AWS_REGION", Reader::name);
        String keyId = r.optional("AWS_ACCESS_KEY_ID", v -> v, null);
        Optional<StaticCredentials> credentials;
        if (keyId != null) {
            credentials = Optional.of(new StaticCredentials(keyId, r.required("AWS_SECRET_ACCESS_KEY", v -> v),
                    Optional.ofNullable(r.optional("AWS_SESSION_TOKEN", v -> v, null))));
        } else if (endpoint.isPresent()) {
            credentials = Optional.of(new StaticCredentials("local", "local"));
        } else {
            credentials = Optional.empty(); // the SDK's chain: ECS task role, profile, ...
        }
        int prefetch = r.optional("TIMBRE_BRIDGE_PREFETCH", v -> r.intIn(v, 1, 65_535), defaultPrefetch(maxHeapBytes));
        Duration linger = Duration.ofMillis(r.optional("TIMBRE_BRIDGE_LINGER_MS", v -> r.intIn(v, 0, 10_000), 5));
        int inFlight = r.optional("TIMBRE_BRIDGE_MAX_IN_FLIGHT_BATCHES", v -> r.intIn(v, 1, 256), 8);
        int port = r.optional("TIMBRE_BRIDGE_HTTP_PORT", v -> r.intIn(v, 0, 65_535), 8080);
        String groupHeader = r.optional("TIMBRE_BRIDGE_FIFO_GROUP_HEADER", Reader::name, "voice_id");
        Duration shutdown = Duration.ofMillis(
                r.optional("TIMBRE_BRIDGE_SHUTDOWN_TIMEOUT_MS", v -> r.intIn(v, 100, 600_000), 20_000));
        Duration recovery = Duration.ofMillis(
                r.optional("TIMBRE_BRIDGE_AMQP_RECOVERY_MS", v -> r.intIn(v, 10, 600_000), 2_000));
        String logFormat = r.optional("TIMBRE_LOG_FORMAT", v -> {
            String f = v.toLowerCase(Locale.ROOT);
            if (!f.equals("json") && !f.equals("text")) {
                throw new IllegalArgumentException("must be json or text");
            }
            return f;
        }, "text");
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
        m.put("TIMBRE_LOG_FORMAT", logFormat);
        m.replaceAll((name, value) -> Redaction.url(value));
        return m;
    }

    @Override
    public String toString() {
        return "BridgeConfig" + describe();
    }

    /** Reads one variable at a time and turns any parse failure into a one-line error naming it. */
    private static final class Reader {
        private final Map<String, String> env;
        private String current;

        Reader(Map<String, String> env) {
            this.env = env;
        }

        <T> T required(String name, Function<String, T> parse) {
            String v = env.get(name);
            if (v == null || v.isBlank()) {
                throw new BridgeConfigException(name, "is required");
            }
            return parse(name, v.strip(), parse);
        }

        <T> T optional(String name, Function<String, T> parse, T fallback) {
            String v = env.get(name);
            if (v == null || v.isBlank()) {
                return fallback;
            }
            return parse(name, v.strip(), parse);
        }

        private <T> T parse(String name, String value, Function<String, T> parse) {
            current = name;
            try {
                return parse.apply(value);
            } catch (BridgeConfigException e) {
                throw e;
            } catch (IllegalArgumentException e) {
                // our own checks' reasons (they never quote the value); the value itself only as Redaction shows it
                throw new BridgeConfigException(name, (e.getMessage() == null ? "is malformed" : e.getMessage())
                        + " (got '" + Redaction.value(name, value) + "')");
            } catch (RuntimeException e) {
                throw new BridgeConfigException(name, "is malformed (got '" + Redaction.value(name, value) + "')");
            }
        }

        int intIn(String v, int min, int max) {
            int n;
            try {
                n = Integer.parseInt(v);
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("must be an integer " + min + ".." + max);
            }
            if (n < min || n > max) {
                throw new IllegalArgumentException("must be " + min + ".." + max);
            }
            return n;
        }

        static String name(String v) {
            if (v.length() > 255 || v.chars().anyMatch(Character::isWhitespace)) {
                throw new IllegalArgumentException("must be 1..255 characters without spaces");
            }
            return v;
        }

        static URI httpUri(String v) {
            URI u;
            try {
                u = new URI(v);
            } catch (URISyntaxException e) { // getReason(), not getMessage(): the message repeats the whole input
                throw new IllegalArgumentException("is not a valid URL (" + e.getReason() + ")");
            }
            String scheme = String.valueOf(u.getScheme()).toLowerCase(Locale.ROOT);
            if (!scheme.equals("http") && !scheme.equals("https") || u.getHost() == null) {
                throw new IllegalArgumentException("must be an http(s) URL");
            }
            return u;
        }
    }
}
