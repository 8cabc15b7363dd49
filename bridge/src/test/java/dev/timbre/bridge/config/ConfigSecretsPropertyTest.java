package dev.timbre.bridge.config;

import static dev.timbre.testsupport.SecretsManagerPasswords.assertNoSecret;
import static dev.timbre.testsupport.SecretsManagerPasswords.encoded;
import static dev.timbre.testsupport.SecretsManagerPasswords.password;
import static dev.timbre.testsupport.SecretsManagerPasswords.randomText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.rabbitmq.client.ConnectionFactory;
import dev.timbre.bridge.testing.BridgeProcess;
import dev.timbre.common.config.ConfigException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The secrets property of the bridge's configuration: for every variable {@link BridgeConfig} reads (and the AWS
 * session token the SDK reads beside them), with values drawn from Secrets Manager's default password alphabet, no
 * {@link ConfigException}, no {@code describe()} of an accepted configuration, and nothing the real
 * {@code BridgeMain} prints when it refuses one, contains a secret or any {@value #WINDOW}-character piece of one.
 * The same property, on core's configuration (TimbreConfig), is {@code dev.timbre.fuzz.ConfigSecretsPropertyTest}; both
 * readers mask through the one shared rule, {@code dev.timbre.common.secrets.Redaction}.
 *
 * <p>Raw passwords with {@code ^ # % / @ :} in {@code TIMBRE_AMQP_URL} make malformed URLs: the bridge used to print
 * them whole to stderr, i.e. to CloudWatch (docs/security.md §3).
 */
class ConfigSecretsPropertyTest {

    static final int TRIES = Integer.getInteger("timbre.fuzz.tries", 4000);
    static final long SEED = Long.getLong("timbre.fuzz.seed", 20261129L);

    private enum Kind { URL, SECRET, PLAIN }

    private static final Map<String, Kind> VARIABLES = new LinkedHashMap<>();

    static {
        for (String v : List.of("TIMBRE_AMQP_URL", "TIMBRE_QUEUE_URL", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL")) {
            VARIABLES.put(v, Kind.URL);
        }
        for (String v : List.of("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")) {
            VARIABLES.put(v, Kind.SECRET);
        }
        for (String v : List.of("TIMBRE_AMQP_QUEUE", "TIMBRE_BRIDGE_QUEUE_TYPE", "TIMBRE_BRIDGE_DLX",
                "TIMBRE_BRIDGE_DLQ", "AWS_REGION", "AWS_ACCESS_KEY_ID", "TIMBRE_BRIDGE_PREFETCH",
                "TIMBRE_BRIDGE_LINGER_MS", "TIMBRE_BRIDGE_MAX_IN_FLIGHT_BATCHES", "TIMBRE_BRIDGE_HTTP_PORT",
                "TIMBRE_BRIDGE_FIFO_GROUP_HEADER", "TIMBRE_BRIDGE_SHUTDOWN_TIMEOUT_MS", "TIMBRE_BRIDGE_AMQP_RECOVERY_MS",
                "TIMBRE_LOG_FORMAT", "AWS_LAMBDA_FUNCTION_NAME", "ECS_CONTAINER_METADATA_URI_V4")) {
            VARIABLES.put(v, Kind.PLAIN);
        }
    }

    private static final List<String> NAMES = List.copyOf(VARIABLES.keySet());

    @TempDir
    Path dir;

    @Test
    void thePropertyCoversEveryVariableTheReaderReads() {
        Set<String> read = new TreeSet<>();
        Map<String, String> env = new HashMap<>(validEnv(new Random(1), new ArrayList<>())) {
            @Override
            public String get(Object key) {
                read.add((String) key);
                return super.get(key);
            }
        };
        BridgeConfig.fromEnv(env);
        env.remove("AWS_ENDPOINT_URL"); // the branch that requires AWS_REGION
        BridgeConfig.fromEnv(env);

        read.removeAll(VARIABLES.keySet());
        assertEquals(Set.of(), read, "variables read by BridgeConfig that this property does not cover");
    }

    @Test
    void noConfigurationErrorOrDescriptionShowsASecret() throws Exception {
        Random seeds = new Random(SEED);
        int errors = 0;
        int acceptedAmqp = 0;
        for (int i = 0; i < TRIES; i++) {
            long seed = seeds.nextLong();
            Random r = new Random(seed);
            List<String> secrets = new ArrayList<>();
            Map<String, String> env = validEnv(r, secrets);
            String variable = NAMES.get(i % NAMES.size());
            env.put(variable, valueFor(variable, r, secrets));
            if (r.nextInt(3) == 0) {
                String other = NAMES.get(r.nextInt(NAMES.size()));
                if (VARIABLES.get(other) == Kind.PLAIN) {
                    env.put(other, randomText(r, 1 + r.nextInt(20)));
                }
            }
            if (r.nextInt(4) == 0) {
                env.remove("AWS_ENDPOINT_URL");
            }
            String shown;
            try {
                BridgeConfig config = BridgeConfig.fromEnv(env);
                shown = config.toString();
                if (variable.equals("TIMBRE_AMQP_URL")) {
                    acceptedAmqp++;
                    // the configuration is at least as strict as the library that parses the URL again (amqp:
                    // the same parse as amqps, without building a TLS context each time)
                    new ConnectionFactory().setUri(URI.create("amqp:" + config.amqpUri().getRawSchemeSpecificPart()));
                }
            } catch (ConfigException e) {
                errors++;
                shown = e.getMessage();
                assertTrue(shown.indexOf('\n') < 0, "one line: " + shown);
            } catch (Exception | AssertionError e) {
                throw new AssertionError("seed " + seed + ", " + variable + "=" + env.get(variable) + ": " + e, e);
            }
            assertNoSecret("seed " + seed + ", " + variable + "=" + env.get(variable), shown, secrets);
        }
        assertTrue(errors > TRIES / 2, errors + " errors in " + TRIES + " tries");
        assertTrue(acceptedAmqp > 0, "some AMQP URLs were valid");
    }

    /** The defect: a password with a character from the default alphabet that a URL does not allow as written. */
    @Test
    void aMalformedAmqpUrlIsAConfigurationErrorThatHidesThePassword() {
        for (char c : "^#%/@:".toCharArray()) {
            String password = "Pa" + c + "ssw0rdSecretXyz";
            Map<String, String> env = validEnv(new Random(c), new ArrayList<>());
            env.put("TIMBRE_AMQP_URL", "amqp://bridge:" + password + "@rabbit.internal:5672/%2f");
            ConfigException e = assertThrows(ConfigException.class, () -> BridgeConfig.fromEnv(env),
                    "unencoded " + c);
            assertEquals(java.util.Optional.of("TIMBRE_AMQP_URL"), e.variable());
            assertTrue(e.getMessage().contains("rabbit.internal"), "says which broker: " + e.getMessage());
            assertNoSecret("error for an unencoded " + c, e.getMessage(), List.of(password));
        }
    }

    /** {@code BridgeMain} as ECS runs it: exit 3 and one line on stderr, without the password, per character. */
    @Test
    void theBridgeProcessNeverPrintsASecretWhenItRefusesTheConfiguration() throws Exception {
        Random r = new Random(SEED);
        for (char c : "^#%/@:".toCharArray()) {
            List<String> secrets = new ArrayList<>();
            Map<String, String> env = validEnv(r, secrets);
            String password = password(r).substring(0, 10) + c + password(r);
            secrets.add(password);
            env.put("TIMBRE_AMQP_URL", "amqp://bridge:" + password + "@127.0.0.1:5672/%2f");
            env.put("AWS_ENDPOINT_URL", "http://127.0.0.1:1");
            env.put("TIMBRE_BRIDGE_HTTP_PORT", "0");
            Path log = dir.resolve("bridge-" + (int) c + ".log");
            Process bridge = BridgeProcess.start(env, log);
            try {
                assertTrue(bridge.waitFor(60, TimeUnit.SECONDS), "the bridge exits on a bad URL");
            } finally {
                bridge.destroyForcibly();
            }
            String output = Files.readString(log);
            assertEquals(3, bridge.exitValue(), "a configuration error (exit 3): " + output);
            assertTrue(output.contains("TIMBRE_AMQP_URL"), "names the variable: " + output);
            assertNoSecret("the bridge with an unencoded " + c, output, secrets);
        }
    }

    // ------------------------------------------------------------------------------------------ generators

    private static Map<String, String> validEnv(Random r, List<String> secrets) {
        Map<String, String> env = new HashMap<>();
        String amqpPassword = password(r);
        secrets.add(amqpPassword);
        env.put("TIMBRE_AMQP_URL", "amqps://bridge:" + encoded(amqpPassword) + "@rabbit.internal:5671/%2f");
        env.put("TIMBRE_QUEUE_URL", "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs");
        env.put("AWS_ENDPOINT_URL", "http://127.0.0.1:9324");
        env.put("AWS_REGION", "eu-west-1");
        env.put("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID0000");
        for (Map.Entry<String, Kind> v : VARIABLES.entrySet()) {
            if (v.getValue() == Kind.SECRET) {
                String secret = password(r);
                secrets.add(secret);
                env.put(v.getKey(), secret);
            }
        }
        return env;
    }

    private static String valueFor(String variable, Random r, List<String> secrets) {
        Kind kind = VARIABLES.get(variable);
        if (kind == Kind.SECRET) {
            String secret = password(r);
            secrets.add(secret);
            return secret;
        }
        if (kind == Kind.PLAIN && r.nextInt(3) > 0) {
            return randomText(r, 1 + r.nextInt(40)); // not a secret: it may be quoted
        }
        String password = password(r);
        secrets.add(password);
        String pw = r.nextBoolean() ? password : encoded(password);
        String scheme = variable.equals("TIMBRE_AMQP_URL") ? (r.nextBoolean() ? "amqp" : "amqps")
                : (r.nextBoolean() ? "http" : "https");
        if (r.nextInt(8) == 0) {
            scheme = List.of("ftp", "amqp", "http", "jdbc:postgresql", "").get(r.nextInt(5));
        }
        String host = List.of("127.0.0.1", "broker.internal", "", "bad host", "[::1", "h_st").get(r.nextInt(6));
        String port = List.of("", ":5672", ":99999", ":x", ":").get(r.nextInt(5));
        String path = List.of("", "/", "/%2f", "/a/b", "/q?heartbeat=x", "/v#f").get(r.nextInt(6));
        if (r.nextInt(10) == 0) {
            return "bridge:" + pw + "@" + host + port + path;
        }
        if (r.nextInt(6) == 0) { // a token as the whole user-info: no ':' in it, or it would be user:password
            return scheme + "://" + pw.replace(":", "%3A") + "@" + host + port + path;
        }
        return scheme + "://bridge:" + pw + "@" + host + port + path;
    }

}
