package dev.timbre.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.zaxxer.hikari.HikariDataSource;
import dev.timbre.db.DatabasePool;
import dev.timbre.db.Migrations;
import dev.timbre.local.EmbeddedS3;
import dev.timbre.local.EmbeddedSqs;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;

/**
 * The handler named in template.yaml, run the way Lambda runs the image: the real AWS runtime interface client
 * (aws-lambda-java-runtime-interface-client, as the Java base image ships it) in a child JVM, with the image's
 * class path layout (/var/task + /var/task/lib), the image's ENV and pre-extracted natives, the template's
 * environment variables, against an in-test Lambda Runtime API. Real Postgres (127.0.0.1:5432, a fresh database
 * migrated by the project's Migrations) and an in-JVM ElasticMQ stand in for the database and the DLQ.
 */
class LambdaRuntimeApiTest {

    static final Duration CHILD_LIMIT = Duration.ofMinutes(4);
    static final ObjectMapper JSON = new ObjectMapper();
    static final String PG = System.getProperty("timbre.test.pg.host", "127.0.0.1") + ":"
            + System.getProperty("timbre.test.pg.port", "5432");
    static final String PG_USER = System.getProperty("timbre.test.pg.user", "postgres");

    static Template template;
    static LambdaImage image;
    static String handler;
    static String database;
    static HikariDataSource dataSource;
    static EmbeddedSqs sqs;
    static EmbeddedSqs.QueuePair queues;

    /** The database secret the function reads at cold start (trust auth here: the password is not checked). */
    static final String DB_SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:timbre-db-AbCdEf";
    static FakeSecretsManager secrets;

    @BeforeAll
    static void setUp() throws Exception {
        secrets = new FakeSecretsManager(DB_SECRET_ARN, PG_USER, "unused-with-trust-auth");
        template = Template.load(Repo.file("template.yaml"));
        handler = HandlerContract.handlerOf(template);
        image = LambdaImage.build();
        String prepared = image.prepareNatives();
        if (prepared != null) {
            System.out.println("[image build] " + prepared.strip());
        }
        database = "timbre_deploy_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12)
                .toLowerCase(Locale.ROOT);
        admin("CREATE DATABASE " + database);
        dataSource = DatabasePool.open(jdbcUrl(), PG_USER, null, 2);
        Migrations.migrate(dataSource);
        sqs = EmbeddedSqs.start();
        queues = sqs.createQueueWithDlq("jobs", 5, Duration.ofSeconds(720));
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (secrets != null) {
            secrets.close();
        }
        if (sqs != null) {
            sqs.close();
        }
        if (dataSource != null) {
            dataSource.close();
        }
        if (database != null) {
            admin("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
        }
    }

    static String jdbcUrl() {
        return "jdbc:postgresql://" + PG + "/" + database;
    }

    static void admin(String sql) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + PG + "/postgres", PG_USER, null);
             Statement s = c.createStatement()) {
            s.execute(sql);
        }
    }

    /**
     * A local value for every variable the template sets on the function (checked: a new template variable
     * breaks this test until it gets one), plus the SDK's endpoint variables for the local servers.
     */
    static Map<String, String> functionEnv(String s3Endpoint) {
        Map<String, String> env = new LinkedHashMap<>();
        env.put("TIMBRE_DB_URL", jdbcUrl());
        env.put("TIMBRE_DB_SECRET_ARN", DB_SECRET_ARN);
        env.put("TIMBRE_S3_BUCKET", "timbre-uploads");
        env.put("TIMBRE_QDRANT_COLLECTION", "voice_embeddings");
        env.put("TIMBRE_CONVERTER_DIR", Repo.file("infra/model/fixtures/converter").toString());
        env.put("TIMBRE_SE_MODE", "extract-se"); // the fixture clips are synthetic, not speech
        env.put("TIMBRE_WORKER_THREADS", "2");
        env.put("TIMBRE_MAX_AUDIO_BYTES", "52428800");
        env.put("TIMBRE_MAX_AUDIO_SECONDS", "600");
        env.put("TIMBRE_MAX_RECEIVES", "5");
        env.put("TIMBRE_DLQ_URL", queues.dlqUrl());
        env.put("TIMBRE_DEADLINE_MARGIN_MS", "5000");
        env.put("TIMBRE_EVENTS_BUS", "timbre-events");
        env.put("TORCH_CPP_LOG_LEVEL", "ERROR"); // libtorch's, not ours: the template sets it so natives stay quiet

        TreeSet<String> expected = new TreeSet<>();
        EnvironmentContractTest.functionEnvironment(template).forEach((name, value) -> {
            boolean optional = value instanceof Map<?, ?> m && m.containsKey("Fn::If")
                    && String.valueOf(m).contains("AWS::NoValue");
            if (!optional) {
                expected.add(name);
            }
        });
        assertEquals(expected, new TreeSet<>(env.keySet()), "the test sets exactly the template's variables "
                + "(Qdrant ones are conditional: without them the Postgres store is used)");

        // SDK-only variables (docs/architecture.md §8): the embedded SQS, the given S3 endpoint, the local Secrets Manager
        env.putAll(sqs.env());
        env.put("AWS_ENDPOINT_URL_SECRETS_MANAGER", secrets.endpoint());
        env.put("AWS_ENDPOINT_URL_S3", s3Endpoint);
        // no EventBridge here: a bus where nothing listens, so events wait in the outbox (what the function does
        // while the bus is unreachable; OutboxPublisherTest checks the delivery itself)
        try {
            env.put("AWS_ENDPOINT_URL_EVENTBRIDGE", refusingEndpoint());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        return env;
    }

    /** An S3 endpoint where nothing listens: every request fails with connection refused (transient). */
    static String refusingEndpoint() throws Exception {
        try (ServerSocket s = new ServerSocket(0)) {
            return "http://127.0.0.1:" + s.getLocalPort();
        }
    }

    /** Path, size and modification time of every file under the natives cache: run time must not change it. */
    static String cacheSnapshot() throws Exception {
        try (var files = Files.walk(image.cacheDir)) {
            return files.filter(Files::isRegularFile).sorted().map(p -> {
                try {
                    return p + " " + Files.size(p) + " " + Files.getLastModifiedTime(p);
                } catch (Exception e) {
                    return p + " ?";
                }
            }).reduce("", (a, b) -> a + b + "\n");
        }
    }

    static ObjectNode sqsRecord(String messageId, String body) {
        ObjectNode r = JSON.createObjectNode();
        r.put("messageId", messageId);
        r.put("receiptHandle", "AQEB" + messageId);
        r.put("body", body);
        ObjectNode attributes = r.putObject("attributes");
        attributes.put("ApproximateReceiveCount", "1");
        attributes.put("SentTimestamp", Long.toString(System.currentTimeMillis()));
        attributes.put("SenderId", "AIDAIENQZJOLO23YVJ4VO");
        attributes.put("ApproximateFirstReceiveTimestamp", Long.toString(System.currentTimeMillis()));
        r.putObject("messageAttributes");
        r.put("md5OfBody", "");
        r.put("eventSource", "aws:sqs");
        r.put("eventSourceARN", "arn:aws:sqs:us-east-1:123456789012:timbre-jobs");
        r.put("awsRegion", "us-east-1");
        return r;
    }

    static String jobBody(String jobId, String voiceId, String key) throws Exception {
        return JSON.writeValueAsString(Map.of("job_id", jobId, "voice_id", voiceId, "s3_key", key));
    }

    /** A PENDING job row, as a producer inserts it before publishing. */
    static void insertPendingJob(String jobId, String voiceId, String key) throws Exception {
        try (Connection c = dataSource.getConnection();
             PreparedStatement ps = c.prepareStatement(
                     "INSERT INTO voice_processing_jobs (id, voice_id, s3_key) VALUES (?, ?, ?)")) {
            ps.setObject(1, UUID.fromString(jobId));
            ps.setString(2, voiceId);
            ps.setString(3, key);
            ps.executeUpdate();
        }
    }

    /** Whichever comes first: the invocation's outcome or an init failure; fails the test with the log's tail after the limit. */
    static FakeRuntimeApi.Posted awaitOutcome(java.util.concurrent.CompletableFuture<FakeRuntimeApi.Posted> outcome,
                                              FakeRuntimeApi api, Path log) throws Exception {
        try {
            return (FakeRuntimeApi.Posted) java.util.concurrent.CompletableFuture
                    .anyOf(outcome, api.initError()).get(CHILD_LIMIT.toSeconds(), TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            return fail("no response within " + CHILD_LIMIT + "\n" + tail(log));
        }
    }

    static String tail(Path log) {
        try {
            List<String> lines = Files.readAllLines(log);
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        } catch (Exception e) {
            return "(no log: " + e + ")";
        }
    }

    @Test
    void partialBatchFailureIsTheExactJsonLambdaExpects() throws Exception {
        // given: a poison message, a job with no row (permanent: acknowledged) and a job whose audio cannot be
        // fetched because S3 refuses connections (transient: must be redelivered)
        String poisonId = "m-poison-" + UUID.randomUUID();
        String unknownId = "m-unknown-" + UUID.randomUUID();
        String transientId = "m-transient-" + UUID.randomUUID();
        String transientJob = UUID.randomUUID().toString();
        insertPendingJob(transientJob, "voice-dora", "uploads/d.wav");
        ObjectNode event = JSON.createObjectNode();
        ArrayNode records = event.putArray("Records");
        records.add(sqsRecord(poisonId, "this is not json"));
        records.add(sqsRecord(unknownId, jobBody(UUID.randomUUID().toString(), "voice-ghost", "uploads/g.wav")));
        records.add(sqsRecord(transientId, jobBody(transientJob, "voice-dora", "uploads/d.wav")));

        Path log = Repo.work("ric-partial-batch.log");
        try (FakeRuntimeApi api = new FakeRuntimeApi(Duration.ofSeconds(2))) {
            var outcome = api.invoke(JSON.writeValueAsString(event), Duration.ofSeconds(120));
            long started = System.nanoTime();
            Process child = image.startRuntime(handler, functionEnv(refusingEndpoint()), api.address(), log);
            try {
                // when
                FakeRuntimeApi.Posted posted = awaitOutcome(outcome, api, log);

                // then
                assertTrue(posted.path().endsWith("/response"),
                        "the runtime posted " + posted.path() + ": " + posted.body() + "\n" + tail(log));
                assertEquals("{\"batchItemFailures\":[{\"itemIdentifier\":\"" + transientId + "\"}]}",
                        posted.body(), "only the transient record is handed back for redelivery");

                try (SqsClient client = sqs.newClient()) {
                    List<Message> dead = client.receiveMessage(ReceiveMessageRequest.builder()
                            .queueUrl(queues.dlqUrl()).maxNumberOfMessages(10).waitTimeSeconds(2)
                            .messageAttributeNames("All").build()).messages();
                    assertEquals(1, dead.size(), "the poison message, and only it, is in the DLQ: " + dead);
                    assertEquals("this is not json", dead.get(0).body());
                    assertNotNull(dead.get(0).messageAttributes().get("timbre_poison_reason"), "with its reason");
                }
                try (Connection c = dataSource.getConnection();
                     PreparedStatement ps = c.prepareStatement(
                             "SELECT status, attempts, error FROM voice_processing_jobs WHERE id = ?")) {
                    ps.setObject(1, UUID.fromString(transientJob));
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals("PROCESSING", rs.getString("status"), "a transient failure keeps the job open");
                        assertEquals(1, rs.getInt("attempts"));
                        assertNotNull(rs.getString("error"), "with the error noted");
                    }
                }
                // the fake answers the next /next with 500 once the queue stays empty: the RIC exits by itself
                assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the runtime stops when the Runtime API fails");
            } finally {
                child.destroyForcibly();
            }
        }
    }

    @Test
    void aGoodBatchIsEmbeddedWithThePreExtractedNativesAndTheColdStartIsTimed() throws Exception {
        // given: a real clip in S3 and its PENDING job row
        String jobId = UUID.randomUUID().toString();
        String key = "uploads/voice-erin/" + jobId + ".wav";
        String messageId = "m-good-" + UUID.randomUUID();
        insertPendingJob(jobId, "voice-erin", key);
        ObjectNode event = JSON.createObjectNode();
        event.putArray("Records").add(sqsRecord(messageId, jobBody(jobId, "voice-erin", key)));
        String cacheBefore = cacheSnapshot();

        Path log = Repo.work("ric-good-batch.log");
        try (EmbeddedS3 s3 = EmbeddedS3.start();
             FakeRuntimeApi api = new FakeRuntimeApi(Duration.ofSeconds(2))) {
            s3.createBucket("timbre-uploads");
            s3.put("timbre-uploads", key,
                    Files.readAllBytes(Repo.file("infra/model/fixtures/audio/c03_3s_22050_pcm24_mono.wav")));
            var outcome = api.invoke(JSON.writeValueAsString(event), Duration.ofSeconds(120));
            long started = System.nanoTime();
            Process child = image.startRuntime(handler, functionEnv(s3.endpoint().toString()), api.address(), log);
            try {
                // when
                FakeRuntimeApi.Posted posted = awaitOutcome(outcome, api, log);

                // then
                assertEquals("{\"batchItemFailures\":[]}", posted.body(),
                        "nothing to redeliver (" + posted.path() + ")\n" + tail(log));
                try (Connection c = dataSource.getConnection();
                     PreparedStatement ps = c.prepareStatement(
                             "SELECT status, result FROM voice_processing_jobs WHERE id = ?")) {
                    ps.setObject(1, UUID.fromString(jobId));
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next());
                        assertEquals("COMPLETED", rs.getString("status"), "the job is done");
                        JsonNode result = JSON.readTree(rs.getString("result"));
                        assertEquals(256, result.path("embedding").path("dim").asInt(), "a 256-d embedding: " + result);
                    }
                }
                assertEquals(cacheBefore, cacheSnapshot(), "the natives were used as extracted at image build time");

                long ready = api.firstNext().getNow(started);
                String timing = String.format(Locale.ROOT, "process start -> handler ready (first /next): %d ms; "
                                + "-> first embedding done (response posted): %d ms; load average %s%n",
                        (ready - started) / 1_000_000, (posted.atNanos() - started) / 1_000_000, loadAverage());
                System.out.print("[cold start, RIC + image layout] " + timing);
                Files.writeString(Repo.work("cold-start.txt"), timing);
                assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the runtime stops when the Runtime API fails");
            } finally {
                child.destroyForcibly();
            }
        }
    }

    @Test
    void recordsThatCannotFinishBeforeTheDeadlineAreHandedBack() throws Exception {
        // given: a job that would succeed (its clip is in S3), in an invocation whose remaining time (4 s) is
        // already inside the 5 s margin (TIMBRE_DEADLINE_MARGIN_MS): the handler must hand the record back rather
        // than race Lambda's timeout. Ignoring the deadline would embed it and answer with no failures.
        String jobId = UUID.randomUUID().toString();
        String key = "uploads/voice-fay/" + jobId + ".wav";
        String messageId = "m-late-" + UUID.randomUUID();
        insertPendingJob(jobId, "voice-fay", key);
        ObjectNode event = JSON.createObjectNode();
        event.putArray("Records").add(sqsRecord(messageId, jobBody(jobId, "voice-fay", key)));

        Path log = Repo.work("ric-deadline.log");
        try (EmbeddedS3 s3 = EmbeddedS3.start();
             FakeRuntimeApi api = new FakeRuntimeApi(Duration.ofSeconds(2))) {
            s3.createBucket("timbre-uploads");
            s3.put("timbre-uploads", key,
                    Files.readAllBytes(Repo.file("infra/model/fixtures/audio/c02_1s_22050_pcm16_mono.wav")));
            var outcome = api.invoke(JSON.writeValueAsString(event), Duration.ofSeconds(4));
            Process child = image.startRuntime(handler, functionEnv(s3.endpoint().toString()), api.address(), log);
            try {
                // when
                FakeRuntimeApi.Posted posted = awaitOutcome(outcome, api, log);

                // then: answered (no Lambda timeout), with the record to redeliver
                assertTrue(posted.path().endsWith("/response"), posted.path() + ": " + posted.body());
                assertEquals("{\"batchItemFailures\":[{\"itemIdentifier\":\"" + messageId + "\"}]}", posted.body());
                try (Connection c = dataSource.getConnection();
                     PreparedStatement ps = c.prepareStatement("SELECT status FROM voice_processing_jobs WHERE id = ?")) {
                    ps.setObject(1, UUID.fromString(jobId));
                    try (ResultSet rs = ps.executeQuery()) {
                        assertTrue(rs.next());
                        assertNotEquals("COMPLETED", rs.getString("status"), "not processed past the deadline");
                    }
                }
                assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the runtime stops when the Runtime API fails");
            } finally {
                child.destroyForcibly();
            }
        }
    }

    /**
     * Lambda Managed Instances: Lambda sets AWS_LAMBDA_MAX_CONCURRENCY and the real runtime interface client (2.8+)
     * then polls {@code next} from that many threads of the one JVM, into one handler object. Three invocations
     * arrive together: two of good clips (one also with a poison message) and one whose remaining time is already
     * inside the deadline margin. All three are handed out before any is answered (they run at once), the late one
     * is answered at once with its record handed back while the others still run, and each response lists exactly
     * its own records to redeliver.
     */
    @Test
    void managedInstancesConcurrencyRunsInvocationsTogetherEachWithItsOwnPartialResponse() throws Exception {
        List<String> jobs = new ArrayList<>();
        List<String> keys = new ArrayList<>();
        List<String> messages = new ArrayList<>();
        for (int i = 0; i < 4; i++) {
            String jobId = UUID.randomUUID().toString();
            String key = "uploads/voice-lmi/" + jobId + ".wav";
            insertPendingJob(jobId, "voice-lmi", key);
            jobs.add(jobId);
            keys.add(key);
            messages.add("m-lmi-" + i + "-" + UUID.randomUUID());
        }
        String poisonId = "m-lmi-poison-" + UUID.randomUUID();
        ObjectNode first = JSON.createObjectNode();
        first.putArray("Records").add(sqsRecord(messages.get(0), jobBody(jobs.get(0), "voice-lmi", keys.get(0))))
                .add(sqsRecord(messages.get(1), jobBody(jobs.get(1), "voice-lmi", keys.get(1))));
        ObjectNode second = JSON.createObjectNode();
        second.putArray("Records").add(sqsRecord(messages.get(2), jobBody(jobs.get(2), "voice-lmi", keys.get(2))))
                .add(sqsRecord(poisonId, "{\"job_id\": 42}"));
        ObjectNode late = JSON.createObjectNode();
        late.putArray("Records").add(sqsRecord(messages.get(3), jobBody(jobs.get(3), "voice-lmi", keys.get(3))));

        Path log = Repo.work("ric-managed-instances.log");
        try (EmbeddedS3 s3 = EmbeddedS3.start();
             FakeRuntimeApi api = new FakeRuntimeApi(Duration.ofSeconds(2))) {
            s3.createBucket("timbre-uploads");
            byte[] clip = Files.readAllBytes(Repo.file("infra/model/fixtures/audio/c03_3s_22050_pcm24_mono.wav"));
            for (String key : keys) {
                s3.put("timbre-uploads", key, clip);
            }
            var firstOutcome = api.invoke(JSON.writeValueAsString(first), Duration.ofSeconds(120));
            var secondOutcome = api.invoke(JSON.writeValueAsString(second), Duration.ofSeconds(120));
            var lateOutcome = api.invoke(JSON.writeValueAsString(late), Duration.ofSeconds(4));
            Map<String, String> env = functionEnv(s3.endpoint().toString());
            env.put("AWS_LAMBDA_MAX_CONCURRENCY", "3"); // what Lambda sets from PerExecutionEnvironmentMaxConcurrency
            Process child = image.startRuntime(handler, env, api.address(), log);
            try {
                // when
                FakeRuntimeApi.Posted a = awaitOutcome(firstOutcome, api, log);
                FakeRuntimeApi.Posted b = awaitOutcome(secondOutcome, api, log);
                FakeRuntimeApi.Posted c = awaitOutcome(lateOutcome, api, log);

                // then: each answer is its own invocation's
                assertEquals("{\"batchItemFailures\":[]}", a.body(), a.path() + "\n" + tail(log));
                assertEquals("{\"batchItemFailures\":[]}", b.body(), "the poison message is dead-lettered, not "
                        + "redelivered: " + b.path() + "\n" + tail(log));
                assertEquals("{\"batchItemFailures\":[{\"itemIdentifier\":\"" + messages.get(3) + "\"}]}",
                        c.body(), "the late invocation hands its record back: " + c.path());
                // they ran at once: the three were handed out before the first answer came back
                List<Long> handedOut = api.handedOut();
                assertTrue(handedOut.size() >= 3, "three invocations handed out: " + handedOut.size());
                long firstAnswer = Math.min(a.atNanos(), Math.min(b.atNanos(), c.atNanos()));
                assertTrue(handedOut.get(2) < firstAnswer, "all three invocations in flight together (RIC threads "
                        + "= AWS_LAMBDA_MAX_CONCURRENCY); the third was handed out "
                        + (handedOut.get(2) - firstAnswer) / 1_000_000 + " ms after the first answer\n" + tail(log));
                assertTrue(c.atNanos() < Math.max(a.atNanos(), b.atNanos()),
                        "the late invocation did not wait behind the others' work");
                try (Connection conn = dataSource.getConnection();
                     PreparedStatement ps = conn.prepareStatement(
                             "SELECT status FROM voice_processing_jobs WHERE id = ?")) {
                    for (int i = 0; i < 4; i++) {
                        ps.setObject(1, UUID.fromString(jobs.get(i)));
                        try (ResultSet rs = ps.executeQuery()) {
                            assertTrue(rs.next());
                            assertEquals(i < 3 ? "COMPLETED" : "PENDING", rs.getString("status"),
                                    i < 3 ? "job " + i : "the late job was never started: it waits for redelivery");
                        }
                    }
                }
                // the poison message went to the DLQ with its reason (taken off it: the DLQ is shared by this class)
                try (SqsClient client = sqs.newClient()) {
                    List<Message> dead = client.receiveMessage(ReceiveMessageRequest.builder()
                            .queueUrl(queues.dlqUrl()).maxNumberOfMessages(10).waitTimeSeconds(2)
                            .messageAttributeNames("All").build()).messages();
                    Message poison = dead.stream().filter(m -> m.messageAttributes().containsKey(
                            "timbre_original_message_id") && poisonId.equals(m.messageAttributes()
                            .get("timbre_original_message_id").stringValue())).findFirst()
                            .orElseThrow(() -> new AssertionError("the poison message is not in the DLQ: " + dead));
                    assertNotNull(poison.messageAttributes().get("timbre_poison_reason"), "with its reason");
                    client.deleteMessage(d -> d.queueUrl(queues.dlqUrl()).receiptHandle(poison.receiptHandle()));
                    for (Message other : dead) {
                        if (other != poison) { // back to the queue at once for the test that counts them
                            client.changeMessageVisibility(v -> v.queueUrl(queues.dlqUrl())
                                    .receiptHandle(other.receiptHandle()).visibilityTimeout(0));
                        }
                    }
                }
                assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the runtime stops when the Runtime API fails");
            } finally {
                child.destroyForcibly();
            }
        }
    }

    static String loadAverage() {
        try {
            return Files.readString(Path.of("/proc/loadavg")).split(" ")[0];
        } catch (Exception e) {
            return "n/a";
        }
    }

    @Test
    void aMissingVariableFailsInitWithOneLineNamingIt() throws Exception {
        // given: everything the template sets except the database URL
        Map<String, String> env = functionEnv(refusingEndpoint());
        env.remove("TIMBRE_DB_URL");
        Path log = Repo.work("ric-init-error.log");
        try (FakeRuntimeApi api = new FakeRuntimeApi(Duration.ofSeconds(2))) {
            Process child = image.startRuntime(handler, env, api.address(), log);
            try {
                // when
                FakeRuntimeApi.Posted posted;
                try {
                    posted = api.initError().get(CHILD_LIMIT.toSeconds(), TimeUnit.SECONDS);
                } catch (TimeoutException e) {
                    fail("no /init/error within " + CHILD_LIMIT + "\n" + tail(log));
                    return;
                }

                // then: Lambda shows errorMessage in the console and logs; it must name the variable
                JsonNode error = JSON.readTree(posted.body());
                assertTrue(error.get("errorMessage").asText().contains("TIMBRE_DB_URL"),
                        "errorMessage names the variable: " + posted.body());
                assertNotNull(posted.header("Lambda-Runtime-Function-Error-Type"), "error type header");
                assertTrue(child.waitFor(60, TimeUnit.SECONDS), "the runtime exits after an init failure");
                assertNotEquals(0, child.exitValue(), "non-zero exit, so Lambda recycles the sandbox");
            } finally {
                child.destroyForcibly();
            }
        }
    }
}
