package dev.timbre.local;

import com.zaxxer.hikari.HikariDataSource;
import dev.timbre.config.TimbreConfig;
import dev.timbre.db.DatabasePool;
import dev.timbre.db.Migrations;
import dev.timbre.job.JobStore;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.lambda.VoiceEmbeddingHandler;
import dev.timbre.pipeline.WorkerRuntime;
import dev.timbre.store.EmbeddingStore;
import dev.timbre.store.EmbeddingStores;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * Every part of Timbre in one process, on embedded defaults: Postgres (the given {@code TIMBRE_DB_URL}, else an
 * embedded one under the data directory), S3 (S3Proxy on the filesystem under the data directory), SQS
 * (ElasticMQ, a jobs queue and a DLQ wired by redrive policy), the embedding store (Qdrant when
 * {@code TIMBRE_QDRANT_URL} is given, else the Postgres table), the real {@link VoiceEmbeddingHandler} behind a
 * {@link LocalEventSourceMapping}, and, when {@code TIMBRE_AMQP_URL} answers, RabbitMQ with the bridge as a child
 * process. Closing stops everything in reverse order of start.
 */
public final class LocalStack implements AutoCloseable {

    public static final String BUCKET = "timbre-uploads";
    public static final String QUEUE = "timbre-jobs";
    public static final String EVENTS_QUEUE = "timbre-events";

    /**
     * @param dataDir        where Postgres and S3 keep their files
     * @param env            the user's environment (TIMBRE_DB_URL, TIMBRE_QDRANT_URL, TIMBRE_AMQP_URL, ...)
     * @param home           the source tree (bundled converter, bridge build)
     * @param batchSize      records per local Lambda invocation
     * @param batchingWindow how long a partial batch is gathered
     * @param maxConcurrency concurrent local invocations
     * @param maxReceives    receives before SQS moves a message to the DLQ
     * @param visibility     the jobs queue's visibility timeout
     */
    public record Options(Path dataDir, Map<String, String> env, Path home, int batchSize, Duration batchingWindow,
                          int maxConcurrency, int maxReceives, Duration visibility) {
    }

    private final Deque<AutoCloseable> closeInReverse = new ArrayDeque<>();
    private EmbeddedS3 s3;
    private EmbeddedSqs sqs;
    private EmbeddedSqs.QueuePair queues;
    private SqsClient sqsClient;
    private TimbreConfig config;
    private HikariDataSource dataSource;
    private JobStore jobs;
    private EmbeddingStore store;
    private LocalEventSourceMapping mapping;
    private JobPublisher publisher;
    private String postgresWhere;

    private LocalStack() {
    }

    public static LocalStack start(Options options, PrintStream console) {
        LocalStack stack = new LocalStack();
        try {
            stack.startAll(options, console);
            return stack;
        } catch (RuntimeException e) {
            stack.close();
            throw e;
        }
    }

    private void startAll(Options o, PrintStream console) {
        createDirectories(o.dataDir());
        Map<String, String> env = new HashMap<>(o.env());

        String dbUrl = env.get("TIMBRE_DB_URL");
        if (dbUrl == null || dbUrl.isBlank()) {
            EmbeddedPostgres pg = startEmbeddedPostgres(o.dataDir().resolve("postgres"));
            closeInReverse.push(pg);
            dbUrl = pg.getJdbcUrl("postgres", "postgres");
            env.put("TIMBRE_DB_URL", dbUrl);
            env.put("TIMBRE_DB_USER", "postgres");
            env.remove("TIMBRE_DB_PASSWORD");
            postgresWhere = "embedded PostgreSQL, data in " + o.dataDir().resolve("postgres") + " (" + dbUrl + ")";
        } else {
            postgresWhere = "PostgreSQL at " + dbUrl.replaceAll("password=[^&]*", "password=***");
        }
        console.println("postgres:   " + postgresWhere);

        s3 = EmbeddedS3.startFilesystem(o.dataDir().resolve("s3"));
        closeInReverse.push(s3);
        s3.createBucket(BUCKET);
        console.println("s3:         embedded S3Proxy at " + s3.endpoint() + ", objects in " + o.dataDir().resolve("s3"));

        sqs = EmbeddedSqs.start();
        closeInReverse.push(sqs);
        queues = sqs.createQueueWithDlq(QUEUE, o.maxReceives(), o.visibility());
        sqsClient = sqs.newClient();
        closeInReverse.push(sqsClient);
        console.println("sqs:        embedded ElasticMQ at " + sqs.endpoint() + ", queue " + QUEUE + " → DLQ after "
                + o.maxReceives() + " receives");

        // The AWS SDK's default credential chain reads these system properties first; the embedded servers
        // accept exactly these keys. A real deployment never reaches this class.
        System.setProperty("aws.accessKeyId", EmbeddedS3.ACCESS_KEY);
        System.setProperty("aws.secretAccessKey", EmbeddedS3.SECRET_KEY);
        env.put("AWS_REGION", EmbeddedS3.REGION);
        env.put("AWS_ENDPOINT_URL_S3", s3.endpoint().toString());
        env.put("AWS_ENDPOINT_URL_SQS", sqs.endpoint().toString());
        env.put("TIMBRE_S3_BUCKET", BUCKET);
        env.put("TIMBRE_QUEUE_URL", queues.queueUrl());
        env.put("TIMBRE_DLQ_URL", queues.dlqUrl());
        env.put("TIMBRE_MAX_RECEIVES", Integer.toString(o.maxReceives()));
        env.putIfAbsent("TIMBRE_CONVERTER_DIR", o.home().resolve(TimbreConfig.BUNDLED_CONVERTER_DIR).toString());
        env.putIfAbsent("TIMBRE_LOG_FORMAT", "text");
        // Completion events (docs/architecture.md §13) go to a queue on the same ElasticMQ, unless the user named a sink
        if (!env.containsKey("TIMBRE_EVENTS_BUS") && !env.containsKey("TIMBRE_EVENTS_QUEUE_URL")) {
            env.put("TIMBRE_EVENTS_QUEUE_URL", sqs.createQueue(EVENTS_QUEUE, Duration.ofSeconds(30)));
        }
        config = TimbreConfig.fromEnv(env);
        console.println("events:     " + config.events().queueUrl().map(u -> "queue " + u)
                .or(() -> config.events().bus().map(b -> "EventBridge bus " + b)).orElse("none"));

        dataSource = DatabasePool.open(config.dbUrl(), config.dbUser(), config.dbPassword().orElse(null), 4);
        closeInReverse.push(dataSource);
        int applied = Migrations.migrate(dataSource);
        jobs = new PostgresJobStore(dataSource);
        store = EmbeddingStores.fromConfig(config, dataSource);
        closeInReverse.push(store);
        store.ensureReady();
        console.println("migrations: " + applied + " applied; embeddings in " + store.collection()
                + (config.usesQdrant() ? "" : " (set TIMBRE_QDRANT_URL to use Qdrant)"));

        WorkerRuntime runtime = WorkerRuntime.create(config, "timbre-local");
        closeInReverse.push(runtime);
        VoiceEmbeddingHandler handler = new VoiceEmbeddingHandler(runtime.batches(), runtime.metrics(),
                config.deadlineMargin(), Clock.systemUTC(), runtime.events());
        console.println("worker:     " + config.workerThreads() + " worker threads, converter "
                + config.converterDir());

        mapping = new LocalEventSourceMapping(sqsClient, queues.queueUrl(), queueArn(queues.queueUrl()), handler,
                new LocalEventSourceMapping.Settings(o.batchSize(), o.batchingWindow(), o.maxConcurrency(),
                        Duration.ofMinutes(5)));
        closeInReverse.push(mapping);
        mapping.start();

        Optional<JobPublisher> viaRabbit = RabbitBridge.startIfReachable(env, o.home(), queues.queueUrl(),
                sqs.env(), console);
        viaRabbit.ifPresent(closeInReverse::push);
        publisher = viaRabbit.orElseGet(() -> {
            console.println("publish:    straight to SQS (set TIMBRE_AMQP_URL to a reachable RabbitMQ to go "
                    + "through the bridge)");
            return new SqsJobPublisher(sqsClient, queues.queueUrl());
        });
    }

    private static EmbeddedPostgres startEmbeddedPostgres(Path dir) {
        try {
            return EmbeddedPostgres.builder()
                    .setDataDirectory(dir)
                    .setCleanDataDirectory(false)
                    .start();
        } catch (IOException e) {
            throw new UncheckedIOException("embedded PostgreSQL did not start (data in " + dir + "): "
                    + e.getMessage(), e);
        }
    }

    private String queueArn(String queueUrl) {
        return sqsClient.getQueueAttributes(b -> b.queueUrl(queueUrl)
                        .attributeNamesWithStrings("QueueArn"))
                .attributesAsStrings().get("QueueArn");
    }

    private static void createDirectories(Path dir) {
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create the data directory " + dir + ": " + e.getMessage(), e);
        }
    }

    public void upload(String key, byte[] bytes) {
        s3.put(BUCKET, key, bytes);
    }

    public void publish(String body) {
        publisher.publish(body);
    }

    public JobStore jobs() {
        return jobs;
    }

    public EmbeddingStore store() {
        return store;
    }

    public TimbreConfig config() {
        return config;
    }

    public LocalEventSourceMapping mapping() {
        return mapping;
    }

    public String postgresWhere() {
        return postgresWhere;
    }

    public String publisherDescription() {
        return publisher.description();
    }

    /** Messages now in the DLQ, read without consuming them (visibility 0), with their attributes. */
    public List<Message> peekDeadLetters() {
        return sqsClient.receiveMessage(b -> b.queueUrl(queues.dlqUrl()).maxNumberOfMessages(10)
                .visibilityTimeout(0).waitTimeSeconds(0)
                .messageSystemAttributeNames(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT)
                .messageAttributeNames("All")).messages();
    }

    /**
     * Completion events now in the local events queue (docs/architecture.md §13), received and deleted, until the queue
     * answers empty twice or {@code wait} has passed; bodies as sent (EventBridge's event shape).
     */
    public List<String> drainEvents(Duration wait) {
        Optional<java.net.URI> queue = config.events().queueUrl();
        if (queue.isEmpty()) {
            return List.of();
        }
        List<String> bodies = new java.util.ArrayList<>();
        long deadline = System.nanoTime() + wait.toNanos();
        int empty = 0;
        while (empty < 2 && System.nanoTime() < deadline) {
            List<Message> got = sqsClient.receiveMessage(b -> b.queueUrl(queue.get().toString())
                    .maxNumberOfMessages(10).waitTimeSeconds(1)).messages();
            empty = got.isEmpty() ? empty + 1 : 0;
            for (Message m : got) {
                bodies.add(m.body());
                sqsClient.deleteMessage(b -> b.queueUrl(queue.get().toString()).receiptHandle(m.receiptHandle()));
            }
        }
        return bodies;
    }

    public String dlqUrl() {
        return queues.dlqUrl();
    }

    @Override
    public void close() {
        while (!closeInReverse.isEmpty()) {
            AutoCloseable c = closeInReverse.pop();
            try {
                c.close();
            } catch (Exception e) {
                System.err.println("local stack: closing " + c.getClass().getSimpleName() + " failed: " + e);
            }
        }
    }
}
