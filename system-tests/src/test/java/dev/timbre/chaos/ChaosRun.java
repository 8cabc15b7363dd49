package dev.timbre.chaos;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.sun.net.httpserver.HttpServer;
import dev.timbre.bridge.testing.TcpProxy;
import dev.timbre.hostile.HostileCorpus;
import dev.timbre.job.JobMessageParser;
import dev.timbre.job.JobStore;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.lambda.VoiceEmbeddingHandler;
import dev.timbre.local.EmbeddedS3;
import dev.timbre.local.EmbeddedSqs;
import dev.timbre.local.LocalContext;
import dev.timbre.local.LocalEventSourceMapping;
import dev.timbre.pipeline.BatchProcessor;
import dev.timbre.pipeline.DeadLetterQueue;
import dev.timbre.pipeline.JobProcessor;
import dev.timbre.pipeline.PipelineHarness;
import dev.timbre.pipeline.PipelineMetrics;
import dev.timbre.pipeline.ToneColorEmbedder;
import dev.timbre.pipeline.WorkerPool;
import dev.timbre.source.S3AudioSource;
import dev.timbre.store.QdrantEmbeddingStore;
import dev.timbre.testing.FakeQdrant;
import dev.timbre.testing.JobInvariant;
import dev.timbre.testing.ProcStatus;
import dev.timbre.testing.TestDatabase;
import dev.timbre.testing.WorkerProcess;
import io.grpc.Status;
import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.interceptor.Context.ModifyHttpRequest;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.SdkHttpRequest;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry;

/**
 * The chaos run (docs/reliability.md §1): N small jobs plus deliberately bad ones are published to RabbitMQ, forwarded by
 * the real bridge (a child process, as on ECS) into SQS (ElasticMQ), and taken from there by the real Lambda handler
 * behind the local event-source mapping and, optionally, a real ECS worker process, while a seeded fault schedule
 * injects, on loopback only:
 * <ul>
 *   <li>RabbitMQ: the bridge's connection closed under it, and the broker unreachable for a few seconds (the bridge
 *       talks to RabbitMQ through a {@link TcpProxy} the schedule cuts);</li>
 *   <li>the bridge killed with SIGKILL and started again (its unacked deliveries come back from the broker);</li>
 *   <li>S3: requests answered 503 SlowDown by a fault endpoint, connections refused, latency spikes;</li>
 *   <li>Postgres: every connection of the run's database killed ({@code pg_terminate_backend}), and the database
 *       closed to new connections for a few seconds ({@code ALLOW_CONNECTIONS false}), the shared server kept up;</li>
 *   <li>Qdrant (in-process gRPC double): calls answered UNAVAILABLE, upserts hanging past the client deadline;</li>
 *   <li>Lambda deadlines: invocations started 40 ms before their deadline, so their batches stop mid-way; and a 6 s
 *       function timeout for 3-record batches, so batches slowed by other faults run into it too;</li>
 *   <li>the ECS worker killed with SIGKILL and started again.</li>
 * </ul>
 * Afterwards it checks the job lifecycle invariant ({@link JobInvariant}) and counts: every good job COMPLETED, the bad ones FAILED with a clear error, none lost (not terminal),
 * none stuck in PROCESSING, exactly one Qdrant point per completed job and none for others, the DLQ holding
 * exactly the poison messages, the RabbitMQ queue empty and its dead-letter queue holding exactly the messages
 * no SQS request can carry (not UTF-8, a character SQS refuses, over 1 MiB). Without the bridge
 * ({@code --no-bridge}) the producer sends straight to SQS.
 *
 * <p>{@code bench/chaos.sh} runs {@link #main}; {@link ChaosRunTest} runs a short version in the suite.
 */
public final class ChaosRun {

    /**
     * @param jobs      good jobs (1 s clips)
     * @param badAudio  jobs whose audio is undecodable (must end FAILED)
     * @param poison    poison messages (must end in the SQS DLQ, only they)
     * @param unsendable messages no SQS request can carry (must end in the bridge's RabbitMQ dead-letter queue)
     * @param bridge    whether messages go RabbitMQ → bridge process → SQS (else straight to SQS)
     * @param ecsWorker whether a real ECS worker process also consumes, and is SIGKILLed
     * @param submitOver the messages are sent at a steady rate over this time, so faults meet work in flight
     * @param faultFor  how long the fault schedule runs; then the queue drains without faults
     * @param timeout   bound on the whole run
     * @param seed      seeds the fault schedule
     */
    public record Settings(int jobs, int badAudio, int poison, int unsendable, boolean bridge, boolean ecsWorker,
                           Duration faultPeriod,
                           Duration submitOver, Duration faultFor, Duration timeout, long seed) {
    }

    /** The figures of one run. */
    public record Report(Settings settings, long seconds, int completed, int failedBad, int gaveUp, int lost,
                         int stuck, int points, int duplicatePoints, int pointsOfNonCompleted, int dlqMessages,
                         boolean dlqOnlyPoison, int dlqCopies, int invariantViolations, int leftInRabbit,
                         int bridgeDeadLetters,
                         boolean bridgeDlqOnlyUnsendable, int childLogFiles, int secretsInChildLogs,
                         Map<String, Integer> faults, long invocations,
                         long deadlineInvocations, long p50Ms, long p95Ms, long p99Ms, double heapSlopeMibPerMin,
                         double rssSlopeMibPerMin, long maxHeapMib, long maxRssMib, List<String> failures) {

        public boolean passed() {
            return failures.isEmpty();
        }

        public String markdown() {
            StringBuilder md = new StringBuilder();
            md.append("| figure | value |\n|---|---|\n");
            row(md, "good jobs", settings.jobs());
            row(md, "bad-audio jobs (must FAIL)", settings.badAudio());
            row(md, "poison messages (must reach the DLQ)", settings.poison());
            row(md, "path", settings.bridge() ? "RabbitMQ → bridge process (SIGKILLed) → SQS" : "straight to SQS");
            if (settings.bridge()) {
                row(md, "unsendable messages (not UTF-8, U+FFFF, over 1 MiB: must reach the bridge's dead-letter queue)",
                        settings.unsendable());
            }
            row(md, "ECS worker process (SIGKILLed)", settings.ecsWorker() ? "yes" : "no");
            row(md, "messages sent at a steady rate over", settings.submitOver().toSeconds() + " s");
            row(md, "fault schedule: one fault every / for", settings.faultPeriod().toMillis() + " ms / "
                    + settings.faultFor().toSeconds() + " s");
            row(md, "wall time", seconds + " s");
            row(md, "completed", completed);
            row(md, "bad jobs FAILED with a clear error", failedBad);
            row(md, "good jobs that gave up (FAILED after max receives)", gaveUp);
            row(md, "**lost** (no terminal state)", lost);
            row(md, "**stuck** in PROCESSING", stuck);
            row(md, "Qdrant points", points);
            row(md, "**duplicate points** (points − completed jobs)", duplicatePoints);
            row(md, "points of jobs not COMPLETED", pointsOfNonCompleted);
            row(md, "**job lifecycle invariant violations** (row open with its message in no queue; point of a job "
                    + "not COMPLETED)", invariantViolations);
            row(md, "DLQ messages", dlqMessages + (dlqOnlyPoison ? " (the poison messages, nothing else"
                    : " (NOT only poison") + (dlqCopies > 0 ? "; " + dlqCopies
                    + " extra copies: forwarded again after a bridge SIGKILL, at-least-once)" : ")"));
            if (settings.bridge()) {
                row(md, "**left in RabbitMQ** after the run", leftInRabbit);
                row(md, "bridge dead-letter queue", bridgeDeadLetters + (bridgeDlqOnlyUnsendable
                        ? " (the unsendable messages, nothing else)" : " (NOT only the unsendable ones)"));
            }
            row(md, "secrets (AWS secret key, AMQP credentials) in the logs of the " + childLogFiles
                    + " child processes", secretsInChildLogs);
            faults.forEach((kind, count) -> row(md, "faults: " + kind, count));
            row(md, "Lambda invocations (of which ran into the deadline)", invocations + " (" + deadlineInvocations + ")");
            row(md, "end-to-end per job p50 / p95 / p99 (created → finished)", p50Ms + " / " + p95Ms + " / " + p99Ms + " ms");
            row(md, "heap floor (lowest used heap per 10 s) slope / max used", String.format(Locale.ROOT,
                    "%.1f MiB/min / %d MiB", heapSlopeMibPerMin, maxHeapMib));
            row(md, "RSS slope / max", String.format(Locale.ROOT, "%.1f MiB/min / %d MiB", rssSlopeMibPerMin, maxRssMib));
            row(md, "result", passed() ? "PASS" : "FAIL: " + String.join("; ", failures));
            return md.toString();
        }

        private static void row(StringBuilder md, String name, Object value) {
            md.append("| ").append(name).append(" | ").append(value).append(" |\n");
        }
    }

    private static final String BUCKET = "timbre-uploads";
    private static final String COLLECTION = "chaos_embeddings";
    private static final int MAX_RECEIVES = 10;
    private static final Duration VISIBILITY = Duration.ofSeconds(6);
    /**
     * Short enough that faults (a 3 s S3 stall, a 2 s Qdrant timeout) push batches past the deadline, long enough
     * that a healthy batch of {@link #BATCH_SIZE} fits: every record of a batch that misses the deadline spends one
     * receive, so a timeout that never fits the batch exhausts maxReceiveCount and jobs give up (seen with 4 s and
     * 10-record batches on two loaded cores; with 3.5 s and 3-record batches before the fix of
     * {@code BatchProcessor.settleLastReceive}, rows were even left PROCESSING). At most the visibility timeout,
     * as Lambda requires of a mapping.
     */
    private static final Duration FUNCTION_TIMEOUT = Duration.ofSeconds(6);
    private static final int BATCH_SIZE = 3;
    private static final Duration DEADLINE_MARGIN = Duration.ofSeconds(1);
    private static final Duration KILL_EVERY = Duration.ofSeconds(12);
    /** Time left before the margin for an invocation the deadline fault cuts: enough to start, not to finish. */
    private static final Duration NEAR_DEADLINE_BUDGET = Duration.ofMillis(40);
    /**
     * What the bridge and worker processes are given and must never log, faults included (a failed AMQP connect is
     * where a URL with its password would show): the AWS secret key and the broker URL's credentials.
     */
    private static final List<String> CHILD_SECRETS = List.of(EmbeddedSqs.SECRET_KEY, "guest:guest@");

    private ChaosRun() {
    }

    public static Report run(Settings settings, PrintStream out) throws Exception {
        Random random = new Random(settings.seed());
        Map<String, Integer> faults = new LinkedHashMap<>();
        List<AutoCloseable> closeables = new ArrayList<>();
        long start = System.nanoTime();
        try (TestDatabase db = TestDatabase.create();
             EmbeddedS3 s3 = EmbeddedS3.startWithReadLatency(Duration.ofMillis(20));
             EmbeddedSqs sqs = EmbeddedSqs.start();
             SqsClient sqsClient = sqs.newClient();
             FakeQdrant qdrant = FakeQdrant.startWithTcp();
             S3Faults s3Faults = new S3Faults()) {
            // given: the servers, the queues, the jobs
            s3.createBucket(BUCKET);
            EmbeddedSqs.QueuePair queues = sqs.createQueueWithDlq("chaos-jobs", MAX_RECEIVES, VISIBILITY);
            JobStore jobs = new PostgresJobStore(db.dataSource());
            Set<UUID> good = new HashSet<>();
            Set<UUID> bad = new HashSet<>();
            Set<String> poisonBodies = new HashSet<>();
            Set<String> unsendableBodies = new HashSet<>();
            // the job row is created when its message is sent (as a producer does), so created → finished is the
            // job's own end-to-end time, not its wait for a send slot
            List<Outgoing> outgoing = new ArrayList<>();
            byte[][] clips = new byte[4][];
            for (int i = 0; i < clips.length; i++) {
                clips[i] = PipelineHarness.voiceWav(i, 1.0);
            }
            for (int i = 0; i < settings.jobs() + settings.badAudio(); i++) {
                UUID id = UUID.randomUUID();
                boolean isBad = i >= settings.jobs();
                String voice = "voice-" + (i % 4);
                String key = "uploads/" + voice + "/" + id + ".wav";
                byte[] audio = isBad ? HostileCorpus.random(i, 2048) : clips[i % clips.length];
                s3.put(BUCKET, key, audio);
                (isBad ? bad : good).add(id);
                String body = "{\"job_id\":\"" + id + "\",\"voice_id\":\"" + voice + "\",\"s3_key\":\"" + key + "\"}";
                outgoing.add(new Outgoing(body.getBytes(StandardCharsets.UTF_8), id, voice, key));
            }
            for (int i = 0; i < settings.poison(); i++) {
                String body = i % 2 == 0 ? "chaos poison " + i : "{\"job_id\":\"not-a-uuid-" + i + "\"}";
                poisonBodies.add(body);
                outgoing.add(Outgoing.message(body.getBytes(StandardCharsets.UTF_8)));
            }
            for (int i = 0; settings.bridge() && i < settings.unsendable(); i++) {
                byte[] body = unsendable(i);
                unsendableBodies.add(Base64.getEncoder().encodeToString(body));
                outgoing.add(Outgoing.message(body));
            }
            java.util.Collections.shuffle(outgoing, random);

            // the Lambda side: the real handler and pipeline, S3 through the fault interceptor
            S3Client s3Client = S3Client.builder()
                    .endpointOverride(s3.endpoint()).forcePathStyle(true).region(Region.of(EmbeddedS3.REGION))
                    .credentialsProvider(StaticCredentialsProvider.create(
                            AwsBasicCredentials.create(EmbeddedS3.ACCESS_KEY, EmbeddedS3.SECRET_KEY)))
                    .httpClientBuilder(UrlConnectionHttpClient.builder().connectionTimeout(Duration.ofSeconds(2))
                            .socketTimeout(Duration.ofSeconds(5)))
                    .overrideConfiguration(b -> b.addExecutionInterceptor(s3Faults).retryStrategy(RetryMode.STANDARD)
                            .apiCallAttemptTimeout(Duration.ofSeconds(5)).apiCallTimeout(Duration.ofSeconds(12)))
                    .build();
            closeables.add(s3Client);
            QdrantEmbeddingStore store = QdrantEmbeddingStore.connect(URI.create(qdrant.url()), Optional.empty(),
                    COLLECTION, 256, Duration.ofSeconds(2));
            closeables.add(store);
            store.ensureReady();
            WorkerPool pool = new WorkerPool(2);
            closeables.add(pool);
            PipelineMetrics metrics = new PipelineMetrics(new PrintStream(OutputStream.nullOutputStream()), "Timbre",
                    "chaos", Clock.systemUTC());
            JobProcessor processor = new JobProcessor(jobs, new S3AudioSource(s3Client, BUCKET, Set.of(BUCKET),
                    50L << 20), store, new ToneColorEmbedder(PipelineHarness.extractor()), MAX_RECEIVES, metrics,
                    Clock.systemUTC());
            BatchProcessor batches = new BatchProcessor(pool, new JobMessageParser(), processor,
                    new DeadLetterQueue(sqsClient, queues.dlqUrl()), metrics, Clock.systemUTC());
            VoiceEmbeddingHandler handler = new VoiceEmbeddingHandler(batches, metrics, DEADLINE_MARGIN,
                    Clock.systemUTC());
            AtomicLong invocations = new AtomicLong();
            AtomicLong deadlineInvocations = new AtomicLong();
            // the deadline fault: the next invocations start with almost no time left, as if Lambda's timeout
            // were about to cut them, so their batches stop mid-way (deadlines reached under slow dependencies
            // also happen on their own, and are counted the same way)
            AtomicInteger nearDeadline = new AtomicInteger();
            RequestHandler<SQSEvent, SQSBatchResponse> timed = (SQSEvent event, Context context) -> {
                boolean cut = nearDeadline.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
                Context effective = cut ? new LocalContext("VoiceEmbeddingFunction",
                        DEADLINE_MARGIN.plus(NEAR_DEADLINE_BUDGET).toMillis(), 2048) : context;
                long t0 = System.nanoTime();
                SQSBatchResponse response = handler.handleRequest(event, effective);
                invocations.incrementAndGet();
                if (cut || System.nanoTime() - t0 >= FUNCTION_TIMEOUT.minus(DEADLINE_MARGIN).toNanos()) {
                    deadlineInvocations.incrementAndGet();
                }
                return response;
            };
            LocalEventSourceMapping mapping = new LocalEventSourceMapping(sqsClient, queues.queueUrl(),
                    "arn:aws:sqs:us-east-1:000000000000:chaos-jobs", timed,
                    new LocalEventSourceMapping.Settings(BATCH_SIZE, Duration.ofMillis(200), 2, FUNCTION_TIMEOUT));
            closeables.add(mapping);

            // the ECS side: a real worker process on the same queue (Postgres store off: same Qdrant over TCP)
            Map<String, String> workerEnv = new HashMap<>();
            List<Path> workerLogs = new ArrayList<>();
            workerEnv.putAll(db.env());
            workerEnv.putAll(s3.env());
            workerEnv.putAll(sqs.env());
            workerEnv.put("TIMBRE_S3_BUCKET", BUCKET);
            workerEnv.put("TIMBRE_QUEUE_URL", queues.queueUrl());
            workerEnv.put("TIMBRE_DLQ_URL", queues.dlqUrl());
            workerEnv.put("TIMBRE_QDRANT_URL", qdrant.url());
            workerEnv.put("TIMBRE_QDRANT_COLLECTION", COLLECTION);
            workerEnv.put("TIMBRE_MAX_RECEIVES", String.valueOf(MAX_RECEIVES));
            workerEnv.put("TIMBRE_CONVERTER_DIR", PipelineHarness.CONVERTER.toAbsolutePath().normalize().toString());
            workerEnv.put("TIMBRE_WORKER_THREADS", "1");
            workerEnv.put("TIMBRE_LOG_FORMAT", "json");
            Process[] worker = {settings.ecsWorker() ? startWorker(workerEnv, workerLogs) : null};

            // RabbitMQ and the bridge: the producer publishes to the broker directly, the bridge reaches it
            // through a proxy the schedule cuts
            BridgeRun bridge = null;
            if (settings.bridge()) {
                bridge = new BridgeRun(sqs.env(), queues.queueUrl());
                closeables.add(bridge);
                bridge.start();
                bridge.awaitQueueDeclared(Duration.ofSeconds(60));
            }

            // when: consumers run while the fault schedule fires
            Memory memory = new Memory();
            mapping.start();
            AtomicBoolean faulting = new AtomicBoolean(true);
            long deadline = System.nanoTime() + settings.timeout().toNanos();
            long faultEvery = settings.faultPeriod().toNanos();
            long nextFault = System.nanoTime() + faultEvery;
            // the first SIGKILL while messages are still being sent, so that even a short run has one (the loop
            // cannot end before the last message is sent); then every 12 s
            long nextKill = System.nanoTime() + Math.min(KILL_EVERY.toNanos(), settings.submitOver().toNanos() / 2);
            int kills = 0;
            long quietFrom = System.nanoTime() + settings.faultFor().toNanos(); // then drain without faults
            long submitStart = System.nanoTime();
            long submitInterval = settings.submitOver().toNanos() / Math.max(1, outgoing.size());
            int faultKinds = settings.bridge() ? 10 : 8;
            int sent = 0;
            while (System.nanoTime() < deadline) {
                memory.sample();
                long now = System.nanoTime();
                // a steady producer: every message whose time has come, in groups of up to 10
                while (sent < outgoing.size() && now - submitStart >= sent * submitInterval) {
                    List<Outgoing> group = new ArrayList<>();
                    for (; sent < outgoing.size() && group.size() < 10 && now - submitStart >= sent * submitInterval; sent++) {
                        Outgoing o = outgoing.get(sent);
                        if (o.jobId() != null) {
                            createRow(jobs, o.jobId(), o.voice(), o.key());
                        }
                        group.add(o);
                    }
                    if (bridge != null) {
                        bridge.publish(group);
                    } else {
                        sendToSqs(sqsClient, queues.queueUrl(), group);
                    }
                }
                Counts c = counts(db);
                // done when every job is terminal and nothing is left on the way: the broker queue and the SQS queue
                // empty (copies forwarded twice are drained too), the dead-letter queues holding at least their poison
                if (sent == outgoing.size() && c.completed + c.failed >= good.size() + bad.size()
                        && queueDepth(sqsClient, queues.dlqUrl()) >= poisonBodies.size()
                        && queueDepth(sqsClient, queues.queueUrl()) == 0
                        && (bridge == null
                            || (bridge.ready() == 0 && bridge.deadLettered() >= unsendableBodies.size()))) {
                    break;
                }
                if (now > quietFrom && faulting.compareAndSet(true, false)) {
                    qdrant.clearFaults();
                    s3Faults.clear();
                    setAllowConnections(db, true);
                    if (bridge != null) {
                        bridge.proxy().restore();
                    }
                    out.println("chaos: faults stop; draining");
                }
                if (faulting.get() && now >= nextFault) {
                    nextFault = now + faultEvery;
                    injectFault(random.nextInt(faultKinds), db, qdrant, s3Faults, nearDeadline, bridge, faults, out);
                }
                if (worker[0] != null && !worker[0].isAlive()) {
                    // e.g. started while its database was closed to connections: the orchestrator restarts it
                    faults.merge("ECS worker exited on its own, restarted", 1, Integer::sum);
                    worker[0] = startWorker(workerEnv, workerLogs);
                }
                if (bridge != null && !bridge.isAlive()) {
                    faults.merge("bridge exited on its own, restarted", 1, Integer::sum);
                    out.println("chaos: the bridge exited on its own (see " + bridge.log() + "); restarting");
                    bridge.start();
                }
                // SIGKILL every 12 s, taking turns between the processes there are
                if (faulting.get() && now >= nextKill && (worker[0] != null || bridge != null)) {
                    nextKill = now + KILL_EVERY.toNanos();
                    boolean killBridge = bridge != null && (worker[0] == null || kills % 2 == 1);
                    kills++;
                    if (killBridge) {
                        bridge.kill();
                        faults.merge("bridge SIGKILL + restart", 1, Integer::sum);
                        out.println("chaos: bridge SIGKILLed; restarting");
                        bridge.start();
                    } else {
                        worker[0].destroyForcibly(); // SIGKILL
                        worker[0].waitFor(10, TimeUnit.SECONDS);
                        faults.merge("ECS worker SIGKILL + restart", 1, Integer::sum);
                        out.println("chaos: ECS worker SIGKILLed; restarting");
                        worker[0] = startWorker(workerEnv, workerLogs);
                    }
                }
                Thread.sleep(250);
            }
            // then: stop the producer's path and the consumers, and count
            faulting.set(false);
            qdrant.clearFaults();
            s3Faults.clear();
            setAllowConnections(db, true);
            BridgeRun.Leftovers leftovers = BridgeRun.Leftovers.NONE;
            if (bridge != null) {
                bridge.proxy().restore();
                leftovers = bridge.stopAndCount(unsendableBodies);
                // what the stopping bridge flushed (deliveries it held unacked) is still consumed before counting
                long settle = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (queueDepth(sqsClient, queues.queueUrl()) > 0 && System.nanoTime() < settle) {
                    Thread.sleep(250);
                }
            }
            mapping.close();
            if (worker[0] != null) {
                worker[0].destroy(); // SIGTERM: the graceful path releases its in-flight messages
                if (!worker[0].waitFor(30, TimeUnit.SECONDS)) {
                    worker[0].destroyForcibly();
                }
            }
            Thread.sleep(500);
            List<Path> childLogs = new ArrayList<>(workerLogs);
            if (bridge != null) {
                childLogs.addAll(bridge.logs());
            }
            // the job lifecycle invariant, at rest and before the DLQ is read out below: every row finished or its
            // message still in the jobs queue or the DLQ, no point of a job that is not COMPLETED
            List<String> invariant = JobInvariant.violations(JobInvariant.read(db.dataSource(), sqsClient,
                    queues.queueUrl(), queues.dlqUrl(), qdrant.pointIds(COLLECTION), VISIBILITY.multipliedBy(2)));
            return report(settings, start, db, sqsClient, queues.dlqUrl(), qdrant, good, bad, poisonBodies, leftovers,
                    childLogs, faults, invocations.get(), deadlineInvocations.get(), memory, invariant);
        } finally {
            for (int i = closeables.size() - 1; i >= 0; i--) {
                try {
                    closeables.get(i).close();
                } catch (Exception ignored) {
                    // best effort
                }
            }
        }
    }

    private static void injectFault(int kind, TestDatabase db, FakeQdrant qdrant, S3Faults s3,
                                    AtomicInteger nearDeadline, BridgeRun bridge, Map<String, Integer> faults,
                                    PrintStream out) throws Exception {
        String name;
        switch (kind) {
            case 0 -> {
                int killed = terminateBackends(db);
                name = "Postgres connections killed (pg_terminate_backend)";
                out.println("chaos: killed " + killed + " Postgres connections");
            }
            case 1 -> {
                setAllowConnections(db, false);
                terminateBackends(db);
                Thread.sleep(3000);
                setAllowConnections(db, true);
                name = "Postgres unavailable for 3 s";
            }
            case 2 -> { // a window, not a count: a count is soaked up by the few jobs left at the end of a run
                qdrant.failNextCalls(Integer.MAX_VALUE, Status.UNAVAILABLE.withDescription("chaos"));
                Thread.sleep(1000);
                qdrant.failNextCalls(0, Status.UNAVAILABLE);
                name = "Qdrant UNAVAILABLE (1 s window)";
            }
            case 3 -> {
                qdrant.delayUpserts(Duration.ofSeconds(3)); // past the 2 s client deadline
                Thread.sleep(2500);
                qdrant.delayUpserts(Duration.ZERO);
                name = "Qdrant upserts hanging past the deadline (2.5 s window)";
            }
            case 4 -> {
                s3.slowDownFor(Duration.ofSeconds(1));
                name = "S3 503 SlowDown (1 s window)";
            }
            case 5 -> {
                s3.refuseFor(Duration.ofSeconds(1));
                name = "S3 connection refused (1 s window)";
            }
            case 6 -> {
                s3.delayFor(Duration.ofSeconds(3));
                name = "S3 latency +3 s per request (3 s window)";
            }
            case 7 -> {
                nearDeadline.set(3);
                name = "Lambda deadline mid-batch (next 3 invocations start " + NEAR_DEADLINE_BUDGET.toMillis()
                        + " ms before it)";
            }
            case 8 -> {
                bridge.proxy().resetConnections();
                name = "RabbitMQ connection of the bridge closed";
            }
            default -> {
                bridge.proxy().cut();
                Thread.sleep(2000);
                bridge.proxy().restore();
                name = "RabbitMQ unreachable for 2 s";
            }
        }
        faults.merge(name, 1, Integer::sum);
    }

    // ----------------------------------------------------------------------------------------------- producer

    /** One message the producer sends; a job message carries the row the producer creates first. */
    record Outgoing(byte[] body, UUID jobId, String voice, String key) {
        static Outgoing message(byte[] body) {
            return new Outgoing(body, null, null, null);
        }
    }

    /**
     * In turn: a body that is not UTF-8, one with a character SQS refuses (U+FFFF; SQS fails the whole batch request
     * for it), one just over SQS's 1 MiB. No SQS request can carry any of them.
     */
    static byte[] unsendable(int i) {
        String head = "{\"job_id\":\"" + new UUID(7, i) + "\",\"voice_id\":\"";
        return switch (i % 3) {
            case 0 -> (head + "\u00ff\"}").getBytes(StandardCharsets.ISO_8859_1);
            case 1 -> (head + "\uffff\"}").getBytes(StandardCharsets.UTF_8);
            default -> {
                byte[] big = new byte[(1 << 20) + 1 + i];
                java.util.Arrays.fill(big, (byte) 'x');
                yield big;
            }
        };
    }

    private static void sendToSqs(SqsClient sqs, String queueUrl, List<Outgoing> group) {
        List<SendMessageBatchRequestEntry> entries = new ArrayList<>();
        for (Outgoing o : group) {
            entries.add(SendMessageBatchRequestEntry.builder().id("e" + entries.size())
                    .messageBody(new String(o.body(), StandardCharsets.UTF_8)).build());
        }
        sqs.sendMessageBatch(b -> b.queueUrl(queueUrl).entries(entries));
    }

    // ------------------------------------------------------------------------------------------------- S3

    /**
     * For a window of time, sends S3 requests to a 503 SlowDown endpoint or a closed port, or delays them. Windows,
     * not request counts: a count would be soaked up by the few jobs left at the end of a run, which then fail
     * on every receive; an outage hits whatever runs while it lasts.
     */
    static final class S3Faults implements ExecutionInterceptor, AutoCloseable {
        /** A batch of three on two threads whose GETs stall this long runs past the 5 s the deadline leaves. */
        private static final Duration S3_STALL = Duration.ofMillis(3000);
        private final AtomicLong slowDownUntil = new AtomicLong();
        private final AtomicLong refuseUntil = new AtomicLong();
        private final AtomicLong latencyUntil = new AtomicLong();
        private final HttpServer slowDownServer;
        private final int closedPort;

        S3Faults() throws IOException {
            slowDownServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            slowDownServer.createContext("/", exchange -> {
                byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
                        + "<Message>Please reduce your request rate.</Message></Error>").getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "application/xml");
                exchange.sendResponseHeaders(503, exchange.getRequestMethod().equals("HEAD") ? -1 : body.length);
                if (!exchange.getRequestMethod().equals("HEAD")) {
                    exchange.getResponseBody().write(body);
                }
                exchange.close();
            });
            slowDownServer.start();
            try (java.net.ServerSocket probe = new java.net.ServerSocket(0)) {
                closedPort = probe.getLocalPort(); // closed again: connections are refused
            }
        }

        void slowDownFor(Duration d) {
            slowDownUntil.set(System.nanoTime() + d.toNanos());
        }

        void refuseFor(Duration d) {
            refuseUntil.set(System.nanoTime() + d.toNanos());
        }

        void delayFor(Duration d) {
            latencyUntil.set(System.nanoTime() + d.toNanos());
        }

        void clear() {
            long now = System.nanoTime();
            slowDownUntil.set(now);
            refuseUntil.set(now);
            latencyUntil.set(now);
        }

        @Override
        public SdkHttpRequest modifyHttpRequest(ModifyHttpRequest context, ExecutionAttributes attributes) {
            SdkHttpRequest request = context.httpRequest();
            long now = System.nanoTime();
            if (now < slowDownUntil.get()) {
                return request.toBuilder().port(slowDownServer.getAddress().getPort()).build();
            }
            if (now < refuseUntil.get()) {
                return request.toBuilder().port(closedPort).build();
            }
            if (now < latencyUntil.get()) {
                try {
                    Thread.sleep(S3_STALL.toMillis());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            return request;
        }

        @Override
        public void close() {
            slowDownServer.stop(0);
        }
    }

    // ------------------------------------------------------------------------------------------- Postgres

    private static Connection admin(TestDatabase db) throws Exception {
        // the maintenance database, so that closing ours to connections does not lock the admin out
        return DriverManager.getConnection(db.jdbcUrl().replace("/" + db.name(), "/postgres"), db.user(), null);
    }

    private static int terminateBackends(TestDatabase db) throws Exception {
        try (Connection c = admin(db); PreparedStatement s = c.prepareStatement(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()")) {
            s.setString(1, db.name());
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getInt(1) : 0;
            }
        }
    }

    private static void setAllowConnections(TestDatabase db, boolean allow) throws Exception {
        try (Connection c = admin(db); Statement s = c.createStatement()) {
            s.execute("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS " + allow);
        }
    }

    // ------------------------------------------------------------------------------------------ ECS worker

    private static Process startWorker(Map<String, String> env, List<Path> logs) throws IOException {
        Path log = Files.createTempFile("chaos-ecs-worker-", ".log");
        logs.add(log);
        return WorkerProcess.start(env, log, (int) VISIBILITY.toSeconds(), "-Xmx768m", "-Dlogback.configurationFile="
                + Path.of("..", "core", "src", "main", "resources", "logback.xml").toAbsolutePath().normalize());
    }

    // ----------------------------------------------------------------------------------------------- report

    /** Creates a job row, retrying while the schedule has the database closed (a producer would retry too). */
    private static void createRow(JobStore jobs, UUID id, String voice, String key) throws InterruptedException {
        for (int attempt = 1; ; attempt++) {
            try {
                jobs.create(id, voice, key);
                return;
            } catch (RuntimeException e) {
                if (attempt >= 50) {
                    throw e;
                }
                Thread.sleep(200);
            }
        }
    }

    private record Counts(int completed, int failed) {
    }

    private static Counts counts(TestDatabase db) throws Exception {
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*) FILTER (WHERE status = 'COMPLETED'),"
                     + " count(*) FILTER (WHERE status = 'FAILED') FROM voice_processing_jobs")) {
            r.next();
            return new Counts(r.getInt(1), r.getInt(2));
        } catch (Exception e) {
            return new Counts(0, 0); // the database is being faulted; ask again later
        }
    }

    /** Messages in the queue, visible or in flight. */
    private static int queueDepth(SqsClient sqs, String queueUrl) {
        return sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNamesWithStrings(
                "ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible")).attributesAsStrings()
                .values().stream().mapToInt(Integer::parseInt).sum();
    }

    private static Report report(Settings settings, long start, TestDatabase db, SqsClient sqs, String dlqUrl,
                                 FakeQdrant qdrant, Set<UUID> good, Set<UUID> bad, Set<String> poison,
                                 BridgeRun.Leftovers leftovers, List<Path> childLogs, Map<String, Integer> faults, long invocations, long deadlineInvocations,
                                 Memory memory, List<String> invariant) throws Exception {
        List<String> failures = new ArrayList<>();
        invariant.forEach(v -> failures.add("job lifecycle invariant: " + v));
        int completed = 0;
        int failedBad = 0;
        int gaveUp = 0;
        int lost = 0;
        int stuck = 0;
        int pointsOfNonCompleted = 0;
        List<Long> latencies = new ArrayList<>();
        Set<UUID> completedIds = new HashSet<>();
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT id, status, error, extract(epoch FROM finished_at - created_at) * 1000"
                     + " FROM voice_processing_jobs")) {
            while (r.next()) {
                UUID id = (UUID) r.getObject(1);
                String status = r.getString(2);
                String error = r.getString(3);
                switch (status) {
                    case "COMPLETED" -> {
                        completed++;
                        completedIds.add(id);
                        latencies.add(r.getLong(4));
                        if (bad.contains(id)) {
                            failures.add("bad job " + id + " COMPLETED");
                        }
                    }
                    case "FAILED" -> {
                        if (bad.contains(id) && error != null && error.contains("audio")) {
                            failedBad++;
                        } else if (error != null && error.startsWith("gave up")) {
                            gaveUp++;
                            failures.add("job " + id + " " + error);
                        } else {
                            failures.add("job " + id + " FAILED: " + error);
                        }
                    }
                    case "PROCESSING" -> {
                        stuck++;
                        lost++;
                    }
                    default -> lost++;
                }
            }
        }
        int points = qdrant.pointCount(COLLECTION);
        for (UUID id : good) {
            if (!completedIds.contains(id) && qdrant.point(COLLECTION, id).isPresent()) {
                pointsOfNonCompleted++;
            }
        }
        int withPoint = 0;
        for (UUID id : completedIds) {
            if (qdrant.point(COLLECTION, id).isPresent()) {
                withPoint++;
            }
        }
        if (withPoint != completedIds.size()) {
            failures.add((completedIds.size() - withPoint) + " completed jobs without a point");
        }
        int duplicatePoints = points - completedIds.size() - pointsOfNonCompleted;
        List<String> dead = new ArrayList<>();
        while (true) {
            List<Message> got = sqs.receiveMessage(b -> b.queueUrl(dlqUrl).maxNumberOfMessages(10).waitTimeSeconds(1))
                    .messages();
            if (got.isEmpty()) {
                break;
            }
            for (Message m : got) {
                dead.add(m.body());
                sqs.deleteMessage(b -> b.queueUrl(dlqUrl).receiptHandle(m.receiptHandle()));
            }
        }
        // every poison message, nothing else; a poison message the bridge forwarded twice (killed before its ack
        // reached the broker) is there twice: at-least-once, as the bridge promises. Without the bridge, exactly once.
        boolean dlqOnlyPoison = new HashSet<>(dead).equals(poison);
        int dlqCopies = dead.size() - new HashSet<>(dead).size();
        if (dlqCopies > 0 && !settings.bridge()) {
            failures.add("the DLQ holds " + dlqCopies + " copies of poison messages sent once");
        }
        if (completed != good.size()) {
            failures.add("completed " + completed + " of " + good.size() + " good jobs");
        }
        if (failedBad != bad.size()) {
            failures.add("bad jobs FAILED: " + failedBad + " of " + bad.size());
        }
        if (lost > 0) {
            failures.add(lost + " jobs lost (not terminal)");
        }
        if (duplicatePoints != 0) {
            failures.add(duplicatePoints + " duplicate points");
        }
        if (leftovers.ready() != 0) {
            failures.add(leftovers.ready() + " messages left in RabbitMQ");
        }
        if (!leftovers.deadLetteredOnlyUnsendable()) {
            failures.add("the bridge's dead-letter queue holds " + leftovers.deadLettered()
                    + " messages, not exactly the " + settings.unsendable() + " unsendable ones");
        }
        int secretsInChildLogs = 0;
        for (Path log : childLogs) {
            String text = Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
            for (String secret : CHILD_SECRETS) {
                if (text.contains(secret)) {
                    secretsInChildLogs++;
                    failures.add("the log " + log + " contains a secret (" + secret.length() + " characters)");
                }
            }
        }
        if (!dlqOnlyPoison) {
            failures.add("DLQ holds " + new HashSet<>(dead).size() + " distinct messages, not exactly the "
                    + poison.size() + " poison ones");
        }
        long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        return new Report(settings, (System.nanoTime() - start) / 1_000_000_000, completed, failedBad, gaveUp, lost,
                stuck, points, duplicatePoints, pointsOfNonCompleted, dead.size(), dlqOnlyPoison, dlqCopies,
                invariant.size(), leftovers.ready(), leftovers.deadLettered(), leftovers.deadLetteredOnlyUnsendable(), childLogs.size(),
                secretsInChildLogs, faults, invocations, deadlineInvocations, percentile(sorted, 50),
                percentile(sorted, 95), percentile(sorted, 99), memory.slope(memory.floors(memory.heap)),
                memory.slope(memory.rss), memory.max(memory.heap), memory.max(memory.rss), failures);
    }

    private static long percentile(long[] sorted, int p) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    /** Heap used and RSS over time; slope by least squares, in MiB per minute. */
    private static final class Memory {
        final List<double[]> heap = new ArrayList<>();
        final List<double[]> rss = new ArrayList<>();
        private final long t0 = System.nanoTime();
        private long last;

        void sample() {
            long now = System.nanoTime();
            if (now - last < 1_000_000_000L) {
                return;
            }
            last = now;
            double minutes = (now - t0) / 60e9;
            heap.add(new double[] {minutes, ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed() / 1048576.0});
            try {
                rss.add(new double[] {minutes, ProcStatus.residentBytes() / 1048576.0});
            } catch (IOException ignored) {
                // no /proc: no RSS figure
            }
        }

        /**
         * The lowest heap use in each 10 s: the level the collector brings the heap back to. Its trend is what a
         * leak raises; the raw samples mostly show where the sawtooth between collections happened to be.
         */
        List<double[]> floors(List<double[]> points) {
            Map<Long, double[]> lowest = new LinkedHashMap<>();
            for (double[] p : points) {
                lowest.merge((long) (p[0] * 6), p, (a, b) -> b[1] < a[1] ? b : a);
            }
            return new ArrayList<>(lowest.values());
        }

        double slope(List<double[]> points) {
            int n = points.size();
            if (n < 3) {
                return 0;
            }
            double sx = 0, sy = 0, sxx = 0, sxy = 0;
            for (double[] p : points) {
                sx += p[0];
                sy += p[1];
                sxx += p[0] * p[0];
                sxy += p[0] * p[1];
            }
            double d = n * sxx - sx * sx;
            return d == 0 ? 0 : (n * sxy - sx * sy) / d;
        }

        long max(List<double[]> points) {
            return (long) points.stream().mapToDouble(p -> p[1]).max().orElse(0);
        }
    }

    /**
     * {@code bench/chaos.sh [--jobs N] [--bad N] [--poison N] [--unsendable N] [--submit-seconds T] [--fault-ms M]
     * [--fault-seconds T] [--seconds T] [--no-ecs] [--no-bridge] [--seed S] [--write FILE]}.
     * Exits 0 when every figure is as required, 1 otherwise.
     */
    public static void main(String[] args) throws Exception {
        Map<String, String> a = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (args[i].equals("--no-ecs") || args[i].equals("--no-bridge")) {
                a.put(args[i], "true");
            } else if (i + 1 < args.length) {
                a.put(args[i], args[++i]);
            }
        }
        boolean bridge = !a.containsKey("--no-bridge");
        Settings settings = new Settings(Integer.parseInt(a.getOrDefault("--jobs", "200")),
                Integer.parseInt(a.getOrDefault("--bad", "10")), Integer.parseInt(a.getOrDefault("--poison", "10")),
                bridge ? Integer.parseInt(a.getOrDefault("--unsendable", "4")) : 0, bridge,
                !a.containsKey("--no-ecs"), Duration.ofMillis(Long.parseLong(a.getOrDefault("--fault-ms", "3000"))),
                Duration.ofSeconds(Long.parseLong(a.getOrDefault("--submit-seconds", "60"))),
                Duration.ofSeconds(Long.parseLong(a.getOrDefault("--fault-seconds", "150"))),
                Duration.ofSeconds(Long.parseLong(a.getOrDefault("--seconds", "480"))),
                Long.parseLong(a.getOrDefault("--seed", "7")));
        Report report = run(settings, System.out);
        System.out.println(report.markdown());
        String write = a.get("--write");
        if (write != null) {
            Files.writeString(Path.of(write), report.markdown());
            System.out.println("figures written to " + write);
        }
        System.exit(report.passed() ? 0 : 1);
    }

}
