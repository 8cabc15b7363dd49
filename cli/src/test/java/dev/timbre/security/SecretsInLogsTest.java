package dev.timbre.security;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.core.AppenderBase;
import dev.timbre.config.TimbreConfig;
import dev.timbre.job.JobStatus;
import dev.timbre.local.EmbeddedS3;
import dev.timbre.pipeline.BatchOutcome;
import dev.timbre.pipeline.PipelineHarness;
import dev.timbre.pipeline.QueueMessage;
import dev.timbre.pipeline.WorkerRuntime;
import dev.timbre.testing.FakeQdrant;
import dev.timbre.testsupport.ChildJvm;
import io.grpc.Status;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * Secrets never reach a log line, an EMF metric line, an error stored on a job, a DLQ reason, a CLI message or
 * {@code toString()} (docs/security.md §3). Each secret is a distinctive string that is really used on the way, so the
 * test cannot pass because a secret went unused: the Qdrant API key must arrive at the server, the AWS secret
 * key signs every S3 and SQS request, the database password travels in the JDBC URL and the environment.
 *
 * <p>Captured: every logback event (message, key/value pairs, MDC, exception chain with messages) and everything
 * written to {@code System.out}/{@code System.err} (the console appender, in text or JSON, and the EMF metrics).
 */
class SecretsInLogsTest {
    private static final String DB_PASSWORD = "dbPw-Secret-7f3a91";
    private static final String DB_URL_PASSWORD = "dbUrlPw-Secret-2c44d0";
    private static final String QDRANT_KEY = "qdrantKey-Secret-55e1b7";
    private static final String AMQP_PASSWORD = "amqpPw-Secret-3b9e62";
    private static final String AWS_SECRET = EmbeddedS3.SECRET_KEY; // the embedded S3 verifies signatures with it
    private static final List<String> SECRETS = List.of(DB_PASSWORD, DB_URL_PASSWORD, QDRANT_KEY, AMQP_PASSWORD,
            AWS_SECRET);

    @TempDir
    Path dir;

    @Test
    void configurationToStringMasksEverySecret() {
        Map<String, String> env = secretEnv("jdbc:postgresql://127.0.0.1:5432/timbre", "http://127.0.0.1:6334");
        String all = TimbreConfig.fromEnv(env).toString() + " " + TimbreConfig.databaseFromEnv(env) + " "
                + TimbreConfig.publishingFromEnv(env);
        assertNoSecret("TimbreConfig and its settings' toString", all);
        assertTrue(all.contains("****"), "masked values are shown as ****: " + all);
    }

    @Test
    void aFullWorkerRunLogsNoSecret() {
        Capture capture = new Capture();
        String oldId = System.setProperty("aws.accessKeyId", EmbeddedS3.ACCESS_KEY);
        String oldSecret = System.setProperty("aws.secretAccessKey", AWS_SECRET);
        try (PipelineHarness harness = PipelineHarness.start(); FakeQdrant qdrant = FakeQdrant.startWithTcp()) {
            // given: a worker configured with every secret, and a batch with each kind of outcome
            Map<String, String> env = new HashMap<>(secretEnv(harness.db.jdbcUrl(), qdrant.url()));
            env.putAll(harness.s3.env());
            env.putAll(harness.sqs.env());
            env.put("TIMBRE_DB_USER", harness.db.user());
            env.put("TIMBRE_DLQ_URL", harness.dlqUrl);
            env.put("TIMBRE_QDRANT_COLLECTION", "secrets_test");
            env.put("TIMBRE_SE_MODE", "extract-se"); // a synthetic voice, not speech
            UUID ok = harness.submit("voice-secrets", PipelineHarness.voiceWav(11, 1.0));
            UUID missing = UUID.randomUUID();
            harness.jobs.create(missing, "voice-secrets", "uploads/none.wav");
            UUID qdrantDown = harness.submit("voice-secrets", PipelineHarness.voiceWav(12, 1.0));
            qdrant.failUpsertsFor(qdrantDown, Status.UNAVAILABLE.withDescription("qdrant restarting"));
            List<QueueMessage> batch = List.of(
                    message(PipelineHarness.body(ok, "voice-secrets")),
                    message("{\"job_id\":\"not-a-uuid\",\"password\":\"x\"}"),
                    message(PipelineHarness.body(missing, "voice-secrets").replace(PipelineHarness.key("voice-secrets", missing), "uploads/none.wav")),
                    message(PipelineHarness.body(qdrantDown, "voice-secrets")));

            // when
            capture.start();
            BatchOutcome outcome = assertTimeoutPreemptively(Duration.ofSeconds(90), () -> {
                try (WorkerRuntime runtime = WorkerRuntime.fromEnvironment(env, "timbre-secrets-test")) {
                    return runtime.batches().process(batch, false, Instant.now().plusSeconds(60));
                }
            });
            capture.stop();

            // then: the run really used the secrets and went through every outcome
            assertTrue(qdrant.apiKeysSeen().contains(QDRANT_KEY), "the Qdrant API key reached Qdrant");
            assertEquals(JobStatus.COMPLETED, harness.job(ok).status());
            assertEquals(JobStatus.FAILED, harness.job(missing).status());
            assertEquals(1, harness.drainDlq().size(), "the poison message");
            assertEquals(1, outcome.failedMessageIds().size(), "the Qdrant failure is retried");
            String logs = capture.text();
            assertTrue(logs.contains("worker starting") && logs.contains("job completed"),
                    "the capture saw the run's log lines");
            assertTrue(logs.contains("****"), "the configuration was logged, masked");
            assertNoSecret("logs and stdout/stderr of a full worker run", logs);
            assertNoSecret("job errors", String.valueOf(harness.job(missing).error())
                    + harness.job(qdrantDown).error());
        } finally {
            capture.stop();
            restore("aws.accessKeyId", oldId);
            restore("aws.secretAccessKey", oldSecret);
        }
    }

    @Test
    void submitWithCredentialsInTheAmqpUrlNeverPrintsThem() throws Exception {
        // given: a real CLI process; RabbitMQ refuses the (made-up) user, so the error path is what prints
        try (PipelineHarness harness = PipelineHarness.start()) {
            Map<String, String> env = new HashMap<>(secretEnv(harness.db.jdbcUrl(), "http://127.0.0.1:1"));
            env.putAll(harness.s3.env());
            env.put("TIMBRE_DB_USER", harness.db.user());
            env.put("AWS_ACCESS_KEY_ID", EmbeddedS3.ACCESS_KEY);
            env.put("AWS_SECRET_ACCESS_KEY", AWS_SECRET);
            Path wav = dir.resolve("take.wav");
            Files.write(wav, PipelineHarness.voiceWav(5, 0.5));

            // when
            ChildJvm.Result r = ChildJvm.main("dev.timbre.cli.TimbreCli").classPath(testClassPath())
                    .args("submit", wav.toString(), "--voice", "v1").env(env).outputTo(dir.resolve("submit.log"))
                    .run(Duration.ofSeconds(60));
            String text = r.stdout();

            // then
            assertNotEquals(0, r.exit(), "RabbitMQ refused the credentials: " + text);
            assertTrue(text.toLowerCase().contains("rabbitmq") || text.contains("ACCESS_REFUSED")
                    || text.toLowerCase().contains("amqp"), "the error names the broker: " + text);
            assertNoSecret("the output of ./timbre submit", text);
        }
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private static Map<String, String> secretEnv(String jdbcUrl, String qdrantUrl) {
        Map<String, String> env = new HashMap<>();
        env.put("TIMBRE_DB_URL", jdbcUrl + (jdbcUrl.contains("?") ? "&" : "?") + "password=" + DB_URL_PASSWORD);
        env.put("TIMBRE_DB_USER", "postgres");
        env.put("TIMBRE_DB_PASSWORD", DB_PASSWORD);
        env.put("TIMBRE_S3_BUCKET", PipelineHarness.BUCKET);
        env.put("TIMBRE_QDRANT_URL", qdrantUrl);
        env.put("TIMBRE_QDRANT_API_KEY", QDRANT_KEY);
        env.put("TIMBRE_AMQP_URL", "amqp://timbre-nobody:" + AMQP_PASSWORD + "@127.0.0.1:5672/%2f");
        env.put("TIMBRE_CONVERTER_DIR", PipelineHarness.CONVERTER.toAbsolutePath().toString());
        env.put("TIMBRE_WORKER_THREADS", "2");
        env.put("TIMBRE_LOG_FORMAT", "json");
        env.put("AWS_REGION", "eu-west-1"); // no endpoint override here: real AWS needs its region
        return env;
    }

    private static void assertNoSecret(String where, String text) {
        for (String secret : SECRETS) {
            int at = text.indexOf(secret);
            assertFalse(at >= 0, where + " contains the secret " + secret + " at: …"
                    + text.substring(Math.max(0, at - 120), Math.min(text.length(), at + 40)) + "…");
        }
    }

    private static QueueMessage message(String body) {
        return new QueueMessage(UUID.randomUUID().toString(), body, 1, Optional.empty(), Optional.empty());
    }

    private static String testClassPath() {
        // surefire runs tests from a manifest-only jar; the real class path is in this property
        String cp = System.getProperty("surefire.test.class.path");
        return cp != null ? cp : System.getProperty("java.class.path");
    }

    private static void restore(String key, String value) {
        if (value == null) {
            System.clearProperty(key);
        } else {
            System.setProperty(key, value);
        }
    }

    /** Every logback event and every byte written to System.out/err between start and stop. */
    private static final class Capture {
        private final List<String> events = new CopyOnWriteArrayList<>();
        private final ByteArrayOutputStream console = new ByteArrayOutputStream();
        private final AppenderBase<ILoggingEvent> appender = new AppenderBase<>() {
            @Override
            protected void append(ILoggingEvent event) {
                StringBuilder line = new StringBuilder(event.getFormattedMessage());
                if (event.getKeyValuePairs() != null) {
                    event.getKeyValuePairs().forEach(kv -> line.append(' ').append(kv.key).append('=').append(kv.value));
                }
                event.getMDCPropertyMap().forEach((k, v) -> line.append(' ').append(k).append('=').append(v));
                for (IThrowableProxy t = event.getThrowableProxy(); t != null; t = t.getCause()) {
                    line.append(" | ").append(t.getClassName()).append(": ").append(t.getMessage());
                    for (IThrowableProxy s : t.getSuppressed()) {
                        line.append(" | suppressed ").append(s.getClassName()).append(": ").append(s.getMessage());
                    }
                }
                events.add(line.toString());
            }
        };
        private PrintStream oldOut;
        private PrintStream oldErr;

        void start() {
            Logger root = (Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME);
            appender.setContext(root.getLoggerContext());
            appender.start();
            root.addAppender(appender);
            oldOut = System.out;
            oldErr = System.err;
            System.setOut(new PrintStream(new Tee(oldOut, console), true, StandardCharsets.UTF_8));
            System.setErr(new PrintStream(new Tee(oldErr, console), true, StandardCharsets.UTF_8));
        }

        void stop() {
            if (oldOut == null) {
                return;
            }
            ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(appender);
            appender.stop();
            System.setOut(oldOut);
            System.setErr(oldErr);
            oldOut = null;
        }

        String text() {
            List<String> all = new ArrayList<>(events);
            synchronized (console) {
                all.add(console.toString(StandardCharsets.UTF_8));
            }
            return String.join("\n", all);
        }
    }

    private static final class Tee extends OutputStream {
        private final OutputStream a;
        private final ByteArrayOutputStream b;

        Tee(OutputStream a, ByteArrayOutputStream b) {
            this.a = a;
            this.b = b;
        }

        @Override
        public void write(int x) throws IOException {
            a.write(x);
            synchronized (b) {
                b.write(x);
            }
        }

        @Override
        public void write(byte[] bytes, int off, int len) throws IOException {
            a.write(bytes, off, len);
            synchronized (b) {
                b.write(bytes, off, len);
            }
        }
    }
}
