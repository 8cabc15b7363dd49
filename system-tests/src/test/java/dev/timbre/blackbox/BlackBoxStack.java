package dev.timbre.blackbox;

import dev.timbre.local.EmbeddedS3;
import dev.timbre.testing.TestDatabase;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import javax.sql.DataSource;

/**
 * Everything a first-time operator sets up before running Timbre's commands, each as its own server: a new,
 * empty Postgres database (created here, migrated only by {@code ./timbre migrate}), S3 with the upload bucket,
 * SQS with a jobs queue and its dead-letter queue, and the environment variables that point the commands at them.
 * Closing it stops the servers and drops the database.
 */
final class BlackBoxStack implements AutoCloseable {

    static final String BUCKET = "timbre-uploads";
    static final int MAX_RECEIVES = 3;
    /** The queue's visibility timeout; the worker is started with the same value. */
    static final Duration VISIBILITY = Duration.ofSeconds(30);

    private final Path dir;
    private final TestDatabase db;
    private final AwsAccount aws;
    private final AwsAccount.Queues queues;
    private final String eventsQueueUrl;
    private final Map<String, String> env;
    private final List<AutoCloseable> servers;

    private BlackBoxStack(Path dir, TestDatabase db, AwsAccount aws, AwsAccount.Queues queues, String eventsQueueUrl,
                          Map<String, String> dbEnv, List<AutoCloseable> servers) {
        this.dir = dir;
        this.db = db;
        this.aws = aws;
        this.queues = queues;
        this.eventsQueueUrl = eventsQueueUrl;
        this.servers = servers;
        Map<String, String> e = new HashMap<>(aws.env());
        e.putAll(dbEnv);
        e.put("TIMBRE_S3_BUCKET", BUCKET);
        e.put("TIMBRE_QUEUE_URL", queues.queueUrl());
        e.put("TIMBRE_DLQ_URL", queues.dlqUrl());
        e.put("TIMBRE_MAX_RECEIVES", String.valueOf(MAX_RECEIVES));
        // The deployment default of this stack: its clips are synthetic, not speech. get-se jobs say so in their
        // message (submit --mode get-se), which also checks that the message's mode wins.
        e.put("TIMBRE_SE_MODE", "extract-se");
        // completion events (docs/architecture.md §13) go to an SQS queue, read back with ./timbre events
        e.put("TIMBRE_EVENTS_QUEUE_URL", eventsQueueUrl);
        this.env = Map.copyOf(e);
    }

    /** ElasticMQ and S3Proxy as two child JVMs, user and password for the database in the environment. */
    static BlackBoxStack withLocalServers(Path dir) {
        List<AutoCloseable> servers = new ArrayList<>();
        TestDatabase db = null;
        try {
            // the two JVMs start side by side
            CompletableFuture<ServerProcess> sqs = CompletableFuture.supplyAsync(
                    () -> ServerProcess.start("sqs", dir.resolve("elasticmq.log")));
            CompletableFuture<ServerProcess> s3 = CompletableFuture.supplyAsync(
                    () -> ServerProcess.start("s3", dir.resolve("s3proxy.log")));
            servers.add(sqs.join());
            servers.add(s3.join());
            db = TestDatabase.createEmpty();
            AwsAccount aws = AwsAccount.localServers(s3.join().endpoint(), sqs.join().endpoint(),
                    EmbeddedS3.ACCESS_KEY, EmbeddedS3.SECRET_KEY);
            servers.add(0, aws);
            return prepare(dir, db, aws, Map.of("TIMBRE_DB_URL", db.jdbcUrl(), "TIMBRE_DB_USER", db.user()), servers);
        } catch (RuntimeException e) {
            closeAll(servers, db);
            throw e;
        }
    }

    /**
     * One endpoint for S3, SQS and Secrets Manager (LocalStack); the database user and password come from a
     * Secrets Manager secret ({@code TIMBRE_DB_SECRET_ARN}), as in the deployed stack. Postgres here trusts local
     * connections, so the secret's password is not checked; that the commands read the secret at all is.
     */
    static BlackBoxStack withSingleEndpoint(Path dir, AwsAccount aws) {
        TestDatabase db = TestDatabase.createEmpty();
        try {
            String arn = aws.createSecret("timbre/db-" + db.name(),
                    "{\"username\":\"" + db.user() + "\",\"password\":\"not-checked-by-trust-auth\"}");
            return prepare(dir, db, aws, Map.of("TIMBRE_DB_URL", db.jdbcUrl(), "TIMBRE_DB_SECRET_ARN", arn),
                    new ArrayList<>());
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
    }

    private static BlackBoxStack prepare(Path dir, TestDatabase db, AwsAccount aws, Map<String, String> dbEnv,
                                         List<AutoCloseable> servers) {
        aws.createBucket(BUCKET);
        AwsAccount.Queues queues = aws.createQueues("timbre-jobs", MAX_RECEIVES, VISIBILITY);
        String events = aws.sqs().createQueue(b -> b.queueName("timbre-events")).queueUrl();
        return new BlackBoxStack(dir, db, aws, queues, events, dbEnv, servers);
    }

    /** The environment a user sets for every command: database, bucket, queues, AWS endpoints and credentials. */
    Map<String, String> env() {
        return env;
    }

    Timbre timbre() {
        return new Timbre(dir);
    }

    Path dir() {
        return dir;
    }

    DataSource db() {
        return db.dataSource();
    }

    String dbName() {
        return db.name();
    }

    AwsAccount aws() {
        return aws;
    }

    AwsAccount.Queues queues() {
        return queues;
    }

    String eventsQueueUrl() {
        return eventsQueueUrl;
    }

    @Override
    public void close() {
        closeAll(servers, db);
    }

    private static void closeAll(List<AutoCloseable> servers, TestDatabase db) {
        for (AutoCloseable s : servers) {
            try {
                s.close();
            } catch (Exception e) {
                System.err.println("black-box stack: " + s + " did not close: " + e);
            }
        }
        if (db != null) {
            db.close();
        }
    }
}
