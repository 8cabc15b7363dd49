package dev.timbre.fuzz;

import static dev.timbre.testsupport.SecretsManagerPasswords.assertNoSecret;
import static dev.timbre.testsupport.SecretsManagerPasswords.encoded;
import static dev.timbre.testsupport.SecretsManagerPasswords.password;
import static dev.timbre.testsupport.SecretsManagerPasswords.randomText;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.config.DatabaseSecretReader;
import dev.timbre.config.InvalidConfigException;
import dev.timbre.config.TimbreConfig;
import dev.timbre.local.EmbeddedS3;
import dev.timbre.pipeline.PipelineHarness;
import dev.timbre.testsupport.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The secrets property of core's configuration (TimbreConfig): for every variable {@link TimbreConfig} reads (plus the
 * AWS secrets the SDK reads from the same environment), with values drawn from Secrets Manager's default password
 * alphabet, no configuration error, no {@code toString} of a configuration that was accepted, and nothing the real
 * CLI prints when it refuses one, contains a secret or any {@value #WINDOW}-character piece of one.
 *
 * <p>A secret here is the whole value of a secret variable (a password, key, token), the password inside any URL's
 * user-info ({@code user:<password>@host}), written raw or percent-encoded, the password of a JDBC URL's
 * {@code password=} parameter, and the password a (fake) Secrets Manager returns for {@code TIMBRE_DB_SECRET_ARN}.
 * Raw passwords with {@code ^ # % / @ :} make malformed URLs, the case that used to echo them (docs/security.md
 * §3).
 */
class ConfigSecretsPropertyTest {

    private enum Kind { URL, SECRET, PLAIN }

    /** Every variable of core's configuration (TimbreConfig) and of the SDK's credentials, by what it may hold. */
    private static final Map<String, Kind> VARIABLES = new LinkedHashMap<>();

    static {
        for (String v : List.of("TIMBRE_DB_URL", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL_SQS",
                "AWS_ENDPOINT_URL_SECRETS_MANAGER", "TIMBRE_QUEUE_URL", "TIMBRE_DLQ_URL", "TIMBRE_QDRANT_URL",
                "TIMBRE_AMQP_URL", "ECS_CONTAINER_METADATA_URI_V4", "TIMBRE_EVENTS_QUEUE_URL",
                "AWS_ENDPOINT_URL_EVENTBRIDGE")) {
            VARIABLES.put(v, Kind.URL);
        }
        for (String v : List.of("TIMBRE_DB_PASSWORD", "TIMBRE_QDRANT_API_KEY", "AWS_SECRET_ACCESS_KEY",
                "AWS_SESSION_TOKEN")) {
            VARIABLES.put(v, Kind.SECRET);
        }
        for (String v : List.of("TIMBRE_DB_USER", "TIMBRE_DB_SECRET_ARN", "TIMBRE_S3_BUCKET", "TIMBRE_ALLOWED_BUCKETS",
                "AWS_REGION", "AWS_ACCESS_KEY_ID", "TIMBRE_QDRANT_COLLECTION", "TIMBRE_CONVERTER_DIR",
                "TIMBRE_WORKER_THREADS", "TIMBRE_MAX_AUDIO_BYTES", "TIMBRE_MAX_AUDIO_SECONDS", "TIMBRE_MAX_RECEIVES",
                "TIMBRE_DEADLINE_MARGIN_MS", "AWS_LAMBDA_FUNCTION_NAME", "TIMBRE_LOG_FORMAT", "TIMBRE_AMQP_QUEUE",
                "TIMBRE_EVENTS_BUS", "TIMBRE_EVENTS_SWEEP_MS", "TIMBRE_SE_MODE")) {
            VARIABLES.put(v, Kind.PLAIN);
        }
    }

    private static final List<String> NAMES = List.copyOf(VARIABLES.keySet());

    @TempDir
    Path dir;

    @Test
    void thePropertyCoversEveryVariableTheReadersRead() throws IOException {
        Set<String> read = new TreeSet<>();
        Function<Map<String, String>, Map<String, String>> recording = env -> new HashMap<>(env) {
            @Override
            public String get(Object key) {
                read.add((String) key);
                return super.get(key);
            }
        };
        Map<String, String> env = validEnv(new Random(1), new ArrayList<>());
        TimbreConfig.fromEnv(recording.apply(env), (id, region, endpoint) -> fail("no ARN set"));
        TimbreConfig.databaseFromEnv(recording.apply(env));
        TimbreConfig.publishingFromEnv(recording.apply(env));
        env.remove("TIMBRE_DB_USER");
        env.remove("TIMBRE_DB_PASSWORD");
        env.put("TIMBRE_DB_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:db");
        TimbreConfig.fromEnv(recording.apply(env),
                (id, region, endpoint) -> new DatabaseSecretReader.Credentials("timbre", "from-the-secret"));

        read.removeAll(VARIABLES.keySet());
        assertEquals(Set.of(), read, "variables read by TimbreConfig that this property does not cover");
    }

    @Test
    void noConfigurationErrorOrToStringShowsASecret() throws IOException {
        Files.createDirectories(dir.resolve("converter"));
        AtomicInteger errors = new AtomicInteger();
        AtomicInteger tries = new AtomicInteger();
        Fuzz.forAll("configuration errors hide secrets", 4000, Duration.ofSeconds(2), r -> {
            List<String> secrets = new ArrayList<>();
            Map<String, String> env = validEnv(r, secrets);
            // the variable under test: every one in turn, with a value that holds a secret
            String variable = NAMES.get(tries.getAndIncrement() % NAMES.size());
            env.put(variable, valueFor(variable, r, secrets));
            if (r.nextInt(3) == 0) { // an unrelated variable broken too, so that errors happen while secrets sit nearby
                String other = NAMES.get(r.nextInt(NAMES.size()));
                if (VARIABLES.get(other) == Kind.PLAIN) {
                    env.put(other, randomText(r, 1 + r.nextInt(20)));
                }
            }
            if (env.containsKey("TIMBRE_DB_SECRET_ARN") && r.nextBoolean()) {
                env.remove("TIMBRE_DB_USER");
                env.remove("TIMBRE_DB_PASSWORD");
            }
            String fromSecretsManager = password(r);
            secrets.add(fromSecretsManager);
            List<String> shown = new ArrayList<>();
            boolean secretsManagerFails = r.nextInt(3) == 0;
            shown.add(run(errors, () -> TimbreConfig.fromEnv(env, (id, region, endpoint) -> {
                if (secretsManagerFails) { // as AwsDatabaseSecretReader words it, quoting the id it was given
                    throw new InvalidConfigException("TIMBRE_DB_SECRET_ARN: cannot read secret " + id
                            + ": Unable to execute HTTP request: " + endpoint.map(Object::toString).orElse("aws"));
                }
                return new DatabaseSecretReader.Credentials("timbre", fromSecretsManager);
            })));
            if (!env.containsKey("TIMBRE_DB_SECRET_ARN")) {
                shown.add(run(errors, () -> TimbreConfig.databaseFromEnv(env)));
            }
            shown.add(run(errors, () -> TimbreConfig.publishingFromEnv(env)));
            for (String text : shown) {
                assertNoSecret("configuration of " + variable + "=" + env.get(variable), text, secrets);
            }
        });
        // the property is about errors: make sure it saw plenty (every run of the fixed seeds sees the same count)
        assertTrue(errors.get() > tries.get() / 2, errors + " errors in " + tries + " tries");
    }

    /** The defect: a password with a character from the default alphabet that a URL does not allow as written. */
    @Test
    void aMalformedAmqpUrlIsAConfigurationErrorThatHidesThePassword() {
        for (char c : "^#%/@:".toCharArray()) {
            String password = "Pa" + c + "ssw0rdSecretXyz";
            Map<String, String> env = Map.of("TIMBRE_AMQP_URL", "amqp://timbre:" + password + "@rabbit.internal:5672/%2f");
            InvalidConfigException e = org.junit.jupiter.api.Assertions.assertThrows(InvalidConfigException.class,
                    () -> TimbreConfig.publishingFromEnv(env), "unencoded " + c);
            assertTrue(e.getMessage().startsWith("TIMBRE_AMQP_URL "), e.getMessage());
            assertTrue(e.getMessage().contains("rabbit.internal"), "says which broker: " + e.getMessage());
            assertNoSecret("error for an unencoded " + c, e.getMessage(), List.of(password));
        }
    }

    /**
     * The real entry points as child processes: {@code ./timbre submit} (through {@code OneLineErrors}) with a
     * malformed AMQP URL per character and with a valid one RabbitMQ refuses, and {@code ./timbre migrate} with
     * user-info in the JDBC URL, which pgjdbc used to print (java.util.logging to stderr) and HikariCP to quote.
     */
    @Test
    void theCliNeverPrintsASecretWhenItRefusesTheConfiguration() throws Exception {
        Path wav = dir.resolve("take.wav");
        Files.write(wav, PipelineHarness.voiceWav(3, 0.5));
        Random r = new Random(Fuzz.BASE_SEED);
        try (PipelineHarness harness = PipelineHarness.start()) {
            for (char c : "^#%/@:".toCharArray()) {
                List<String> secrets = new ArrayList<>();
                Map<String, String> env = new HashMap<>(harness.workerEnv());
                String password = password(r).substring(0, 10) + c + password(r);
                secrets.add(password);
                env.put("TIMBRE_AMQP_URL", "amqp://timbre:" + password + "@127.0.0.1:5672/%2f");
                // a queue nobody has: should a broken URL ever reach a broker, the message goes nowhere
                env.put("TIMBRE_AMQP_QUEUE", "secrets-property-" + UUID.randomUUID());
                putCliSecrets(env, r, secrets);
                Result result = cli(env, "submit", wav.toString(), "--voice", "secrets");
                assertEquals(3, result.exit(), "a configuration error (exit 3): " + result.output());
                assertTrue(result.output().contains("TIMBRE_AMQP_URL"), "names the variable: " + result.output());
                assertNoSecret("./timbre submit with an unencoded " + c, result.output(), secrets);
                assertFalse(result.output().contains(EmbeddedS3.SECRET_KEY), result.output());
            }
            // past the configuration: a valid URL (the password percent-encoded) that RabbitMQ refuses, so the
            // error comes from the client library through AmqpJobPublisher/SubmitCommand and OneLineErrors
            List<String> refused = new ArrayList<>();
            Map<String, String> brokerEnv = new HashMap<>(harness.workerEnv());
            String brokerPassword = password(r) + "^#%/@:" + password(r);
            refused.add(brokerPassword);
            brokerEnv.put("TIMBRE_AMQP_URL", "amqp://timbre-nobody:" + encoded(brokerPassword) + "@127.0.0.1:5672/%2f");
            brokerEnv.put("TIMBRE_AMQP_QUEUE", "secrets-property-" + UUID.randomUUID());
            putCliSecrets(brokerEnv, r, refused);
            Result broker = cli(brokerEnv, "submit", wav.toString(), "--voice", "secrets");
            assertEquals(1, broker.exit(), "RabbitMQ refused the login (exit 1): " + broker.output());
            assertTrue(broker.output().contains("timbre submit: unexpected error"), broker.output());
            assertNoSecret("./timbre submit refused by RabbitMQ", broker.output(), refused);

            List<String> secrets = new ArrayList<>();
            Map<String, String> env = new HashMap<>(harness.workerEnv());
            String password = password(r) + "@" + password(r);
            secrets.add(password);
            env.put("TIMBRE_DB_URL", harness.db.jdbcUrl().replace("//", "//postgres:" + password + "@"));
            putCliSecrets(env, r, secrets);
            Result result = cli(env, "migrate");
            assertEquals(3, result.exit(), "a configuration error (exit 3): " + result.output());
            assertTrue(result.output().contains("TIMBRE_DB_URL"), "names the variable: " + result.output());
            assertNoSecret("./timbre migrate with user-info in the JDBC URL", result.output(), secrets);
        }
    }

    // ------------------------------------------------------------------------------------------ generators

    /** A valid configuration with a secret in every secret variable and in the AMQP URL's user-info. */
    private Map<String, String> validEnv(Random r, List<String> secrets) throws IOException {
        Files.createDirectories(dir.resolve("converter"));
        Map<String, String> env = new HashMap<>();
        env.put("TIMBRE_DB_URL", "jdbc:postgresql://db.internal:5432/timbre?sslmode=require");
        env.put("TIMBRE_DB_USER", "timbre");
        env.put("TIMBRE_S3_BUCKET", "voice-uploads");
        env.put("TIMBRE_CONVERTER_DIR", dir.resolve("converter").toString());
        env.put("TIMBRE_QDRANT_URL", "https://qdrant.internal:6334");
        env.put("AWS_ACCESS_KEY_ID", "AKIAEXAMPLEKEYID0000");
        env.put("AWS_REGION", "eu-west-1"); // real AWS (no endpoint override): required
        putSecrets(env, r, secrets);
        String amqpPassword = password(r);
        secrets.add(amqpPassword);
        env.put("TIMBRE_AMQP_URL", "amqps://timbre:" + encoded(amqpPassword) + "@rabbit.internal:5671/%2f");
        return env;
    }

    private static void putSecrets(Map<String, String> env, Random r, List<String> secrets) {
        for (Map.Entry<String, Kind> v : VARIABLES.entrySet()) {
            if (v.getValue() == Kind.SECRET) {
                String secret = password(r);
                secrets.add(secret);
                env.put(v.getKey(), secret);
            }
        }
    }

    /**
     * The secrets a CLI run may hold without changing its path: the database (trust auth) ignores a password and
     * submit never calls Qdrant; the AWS secret key stays the embedded S3's (checked whole: it is a fixed string).
     */
    private static void putCliSecrets(Map<String, String> env, Random r, List<String> secrets) {
        for (String variable : List.of("TIMBRE_DB_PASSWORD", "TIMBRE_QDRANT_API_KEY")) {
            String secret = password(r);
            secrets.add(secret);
            env.put(variable, secret);
        }
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
        return url(variable, r, password);
    }

    /** A URL (for a plain variable: put where it does not belong) with {@code password} in it, often malformed. */
    private static String url(String variable, Random r, String password) {
        String pw = r.nextBoolean() ? password : encoded(password);
        String scheme = switch (variable) {
            case "TIMBRE_DB_URL" -> "jdbc:postgresql";
            case "TIMBRE_AMQP_URL" -> r.nextBoolean() ? "amqp" : "amqps";
            default -> r.nextBoolean() ? "http" : "https";
        };
        if (r.nextInt(8) == 0) {
            scheme = List.of("ftp", "amqp", "http", "postgres", "jdbc:mysql", "").get(r.nextInt(6));
        }
        String host = List.of("127.0.0.1", "broker.internal", "", "bad host", "[::1", "h_st").get(r.nextInt(6));
        String port = List.of("", ":5672", ":99999", ":x", ":").get(r.nextInt(5));
        String path = List.of("", "/", "/%2f", "/a/b", "/q?x=1", "/db#f").get(r.nextInt(6));
        if (variable.equals("TIMBRE_DB_URL") && r.nextBoolean()) {
            return scheme + "://" + host + port + "/timbre?" + (r.nextBoolean() ? "sslmode=require&" : "")
                    + (r.nextBoolean() ? "password=" : "user=timbre&password=") + pw + (r.nextBoolean() ? "" : "&ssl=true");
        }
        if (r.nextInt(10) == 0) {
            return "timbre:" + pw + "@" + host + port + path; // no scheme at all
        }
        if (r.nextInt(6) == 0) { // a token as the whole user-info: no ':' in it, or it would be user:password
            return scheme + "://" + pw.replace(":", "%3A") + "@" + host + port + path;
        }
        return scheme + "://timbre:" + pw + "@" + host + port + path;
    }

    // ------------------------------------------------------------------------------------------ checks

    private interface Reading {
        Object read();
    }

    /** What a reader shows: its error message (one line), or the {@code toString} of what it accepted. */
    private static String run(AtomicInteger errors, Reading reading) {
        try {
            return String.valueOf(reading.read());
        } catch (InvalidConfigException e) {
            errors.incrementAndGet();
            Fuzz.assertOneLine("configuration error", e.getMessage(), 2000);
            return e.getMessage();
        }
    }

    private static <T> T fail(String why) {
        throw new AssertionError(why);
    }

    private record Result(int exit, String output) {
    }

    /** {@code ./timbre ARGS} as a child JVM with exactly {@code env}; stdout and stderr together. */
    private static Result cli(Map<String, String> env, String... args) throws IOException, InterruptedException {
        ChildJvm.Result r = ChildJvm.main("dev.timbre.cli.TimbreCli").jvmFlags("-XX:+UseSerialGC").args(args)
                .cleanEnv().env("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin")).env(env)
                .outputTo(Files.createTempFile("config-secrets-cli-", ".log")).run(Duration.ofSeconds(120));
        return new Result(r.exit(), r.stdout());
    }
}
