package dev.timbre.chaos;

import com.amazonaws.services.lambda.runtime.Context;
import com.amazonaws.services.lambda.runtime.RequestHandler;
import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import dev.timbre.hostile.HostileCorpus;
import dev.timbre.job.JobMessageParser;
import dev.timbre.job.JobStore;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.lambda.VoiceEmbeddingHandler;
import dev.timbre.local.EmbeddedS3;
import dev.timbre.local.EmbeddedSqs;
import dev.timbre.local.LocalContext;
import dev.timbre.local.LocalEventSourceMapping;
import dev.timbre.notify.EventOutbox;
import dev.timbre.notify.JobEvents;
import dev.timbre.notify.OutboxPublisher;
import dev.timbre.notify.SqsEventSink;
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
import dev.timbre.testing.TestDatabase;
import dev.timbre.testsupport.TcpProxy;
import java.io.OutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.retry.RetryMode;
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
 * injects the faults of the {@link Fault} catalogue, on loopback only:
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
 * Afterwards it checks the job lifecycle invariant ({@link JobInvariant}) and counts ({@link ChaosReport}): every good
 * job COMPLETED, the bad ones FAILED with a clear error, none lost (not terminal), none stuck in PROCESSING, exactly
 * one Qdrant point per completed job and none for others, the DLQ holding
 * exactly the poison messages, one distinct completion event per terminal job on the events queue and none extra
 * (docs/architecture.md §13), the RabbitMQ queue empty and its dead-letter queue holding exactly the messages
 * no SQS request can carry (not UTF-8, a character SQS refuses, over 1 MiB). Without the bridge
 * ({@code --no-bridge}) the producer sends straight to SQS.
 *
 * <p>{@code bench/chaos.sh} runs {@link #main}; {@link ChaosRunTest} runs a short version in the suite.
 */
public final class ChaosRun {

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
    /** Time left before the margin for an invocation the deadline fault cuts: enough to start, not to finish. */
    static final Duration NEAR_DEADLINE_BUDGET = Duration.ofMillis(40);
    /**
     * What the bridge and worker processes are given and must never log, faults included (a failed AMQP connect is
     * where a URL with its password would show): the AWS secret key and the broker URL's credentials.
     */
    private static final List<String> CHILD_SECRETS = List.of(EmbeddedSqs.SECRET_KEY, "guest:guest@");

    private ChaosRun() {
    }

    public static ChaosReport run(ChaosSettings settings, PrintStream out) throws Exception {
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
            // completion events (docs/architecture.md §13): every consumer publishes to this queue
            String eventsQueue = sqs.createQueue("chaos-events", Duration.ofSeconds(30));
            JobStore jobs = new PostgresJobStore(db.dataSource());
            Workload work = Workload.create(settings, s3, random);
            LambdaSide lambda = LambdaSide.start(s3, s3Faults, qdrant, jobs, sqs, sqsClient, queues, eventsQueue,
                    db, closeables);

            // the ECS side: a real worker process on the same queue (Postgres store off: same Qdrant over TCP)
            EcsWorkerRun worker = null;
            if (settings.ecsWorker()) {
                worker = new EcsWorkerRun(workerEnv(db, s3, sqs, queues, qdrant, eventsQueue),
                        (int) VISIBILITY.toSeconds());
                closeables.add(worker);
                worker.start();
            }

            // RabbitMQ and the bridge: the producer publishes to the broker directly, the bridge reaches it
            // through a proxy the schedule cuts
            BridgeRun bridge = null;
            if (settings.bridge()) {
                bridge = new BridgeRun(sqs.env(), queues.queueUrl());
                closeables.add(bridge);
                bridge.start();
                bridge.awaitQueueDeclared(Duration.ofSeconds(60));
            }
            Fault.Targets targets = new Fault.Targets(new PostgresFaults(db), qdrant, s3Faults, lambda.nearDeadline,
                    bridge, worker, out);

            // when: consumers run while the fault schedule fires
            Memory memory = new Memory();
            lambda.mapping.start();
            long deadline = System.nanoTime() + settings.timeout().toNanos();
            long faultEvery = settings.faultPeriod().toNanos();
            long nextFault = System.nanoTime() + faultEvery;
            // the first SIGKILL while messages are still being sent, so that even a short run has one (the loop
            // cannot end before the last message is sent); then every 12 s
            long nextKill = System.nanoTime() + Math.min(Fault.KILL_EVERY.toNanos(), settings.submitOver().toNanos() / 2);
            int kills = 0;
            boolean faulting = true;
            long quietFrom = System.nanoTime() + settings.faultFor().toNanos(); // then drain without faults
            long submitStart = System.nanoTime();
            long submitInterval = settings.submitOver().toNanos() / Math.max(1, work.outgoing.size());
            int sent = 0;
            while (System.nanoTime() < deadline) {
                memory.sample();
                long now = System.nanoTime();
                // a steady producer: every message whose time has come, in groups of up to 10
                while (sent < work.outgoing.size() && now - submitStart >= sent * submitInterval) {
                    List<Outgoing> group = new ArrayList<>();
                    for (; sent < work.outgoing.size() && group.size() < 10 && now - submitStart >= sent * submitInterval;
                         sent++) {
                        Outgoing o = work.outgoing.get(sent);
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
                if (sent == work.outgoing.size() && c.completed + c.failed >= work.good.size() + work.bad.size()
                        && queueDepth(sqsClient, queues.dlqUrl()) >= work.poisonBodies.size()
                        && queueDepth(sqsClient, queues.queueUrl()) == 0
                        && (bridge == null
                            || (bridge.ready() == 0 && bridge.deadLettered() >= work.unsendableBodies.size()))) {
                    break;
                }
                if (faulting && now > quietFrom) {
                    faulting = false;
                    Fault.undoAll(targets);
                    out.println("chaos: faults stop; draining");
                }
                if (faulting && now >= nextFault) {
                    nextFault = now + faultEvery;
                    inject(Fault.draw(random, settings.bridge()), targets, faults);
                }
                if (worker != null && !worker.isAlive()) {
                    // e.g. started while its database was closed to connections: the orchestrator restarts it
                    faults.merge("ECS worker exited on its own, restarted", 1, Integer::sum);
                    worker.start();
                }
                if (bridge != null && !bridge.isAlive()) {
                    faults.merge("bridge exited on its own, restarted", 1, Integer::sum);
                    out.println("chaos: the bridge exited on its own (see " + bridge.log() + "); restarting");
                    bridge.start();
                }
                // SIGKILL every 12 s, taking turns between the processes there are
                if (faulting && now >= nextKill && (worker != null || bridge != null)) {
                    nextKill = now + Fault.KILL_EVERY.toNanos();
                    inject(Fault.kill(kills++, bridge != null, worker != null), targets, faults);
                }
                Thread.sleep(250);
            }
            // then: stop the producer's path and the consumers, and count
            Fault.undoAll(targets);
            BridgeRun.Leftovers leftovers = BridgeRun.Leftovers.NONE;
            if (bridge != null) {
                leftovers = bridge.stopAndCount(work.unsendableBodies);
                // what the stopping bridge flushed (deliveries it held unacked) is still consumed before counting
                long settle = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (queueDepth(sqsClient, queues.queueUrl()) > 0 && System.nanoTime() < settle) {
                    Thread.sleep(250);
                }
            }
            lambda.mapping.close();
            List<Path> childLogs = new ArrayList<>();
            if (worker != null) {
                worker.stop(); // SIGTERM: the graceful path releases its in-flight messages
                childLogs.addAll(worker.logs());
            }
            Thread.sleep(500);
            if (bridge != null) {
                childLogs.addAll(bridge.logs());
            }
            // what a kill or a fault left in the outbox is published by the next sweep, here the Lambda side's
            int unpublished = drainOutbox(lambda.events, db);
            // the job lifecycle invariant, at rest and before the DLQ is read out below: every row finished or its
            // message still in the jobs queue or the DLQ, no point of a job that is not COMPLETED
            List<String> invariant = JobInvariant.violations(JobInvariant.read(db.dataSource(), sqsClient,
                    queues.queueUrl(), queues.dlqUrl(), qdrant.pointIds(COLLECTION), VISIBILITY.multipliedBy(2)));
            return report(settings, start, db, sqsClient, queues.dlqUrl(), eventsQueue, unpublished, qdrant, work,
                    leftovers, childLogs,
                    new ChaosReport.Faults(faults, lambda.invocations.get(), lambda.deadlineInvocations.get()),
                    memory, invariant);
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

    private static void inject(Fault fault, Fault.Targets targets, Map<String, Integer> faults) throws Exception {
        fault.inject(targets);
        faults.merge(fault.label(), 1, Integer::sum);
    }

    // ----------------------------------------------------------------------------------------------- producer

    /**
     * What the producer sends, in the seeded order: the good and bad jobs (their audio already in S3), the poison
     * messages and, with the bridge, the unsendable ones (kept as Base64 of their bodies, as the bridge's
     * dead-letter queue is compared).
     */
    private record Workload(List<Outgoing> outgoing, Set<UUID> good, Set<UUID> bad, Set<String> poisonBodies,
                            Set<String> unsendableBodies) {

        static Workload create(ChaosSettings settings, EmbeddedS3 s3, Random random) {
            Workload w = new Workload(new ArrayList<>(), new HashSet<>(), new HashSet<>(), new HashSet<>(),
                    new HashSet<>());
            // the job row is created when its message is sent (as a producer does), so created → finished is the
            // job's own end-to-end time, not its wait for a send slot
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
                (isBad ? w.bad : w.good).add(id);
                String body = "{\"job_id\":\"" + id + "\",\"voice_id\":\"" + voice + "\",\"s3_key\":\"" + key + "\"}";
                w.outgoing.add(new Outgoing(body.getBytes(StandardCharsets.UTF_8), id, voice, key));
            }
            for (int i = 0; i < settings.poison(); i++) {
                String body = i % 2 == 0 ? "chaos poison " + i : "{\"job_id\":\"not-a-uuid-" + i + "\"}";
                w.poisonBodies.add(body);
                w.outgoing.add(Outgoing.message(body.getBytes(StandardCharsets.UTF_8)));
            }
            for (int i = 0; settings.bridge() && i < settings.unsendable(); i++) {
                byte[] body = unsendable(i);
                w.unsendableBodies.add(Base64.getEncoder().encodeToString(body));
                w.outgoing.add(Outgoing.message(body));
            }
            Collections.shuffle(w.outgoing, random);
            return w;
        }
    }

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
                Arrays.fill(big, (byte) 'x');
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

    // -------------------------------------------------------------------------------------------- consumers

    /**
     * The Lambda side: the real handler and pipeline behind the local event-source mapping, S3 through the fault
     * interceptor; counts invocations and those that ran into the deadline, and cuts the next ones short while the
     * {@link Fault#LAMBDA_DEADLINE} fault asks for it.
     */
    private static final class LambdaSide {
        final LocalEventSourceMapping mapping;
        OutboxPublisher events;
        final AtomicInteger nearDeadline = new AtomicInteger();
        final AtomicLong invocations = new AtomicLong();
        final AtomicLong deadlineInvocations = new AtomicLong();

        private LambdaSide(VoiceEmbeddingHandler handler, SqsClient sqsClient, String queueUrl) {
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
            mapping = new LocalEventSourceMapping(sqsClient, queueUrl,
                    "arn:aws:sqs:us-east-1:000000000000:chaos-jobs", timed,
                    new LocalEventSourceMapping.Settings(BATCH_SIZE, Duration.ofMillis(200), 2, FUNCTION_TIMEOUT));
        }

        /** Wires the pipeline; what it opens goes to {@code closeables}. The mapping is not polling yet. */
        static LambdaSide start(EmbeddedS3 s3, S3Faults s3Faults, FakeQdrant qdrant, JobStore jobs, EmbeddedSqs sqs,
                                SqsClient sqsClient, EmbeddedSqs.QueuePair queues, String eventsQueue,
                                TestDatabase db, List<AutoCloseable> closeables) {
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
                    50L << 20), store, new ToneColorEmbedder(PipelineHarness.extractor()), dev.timbre.tone.SeMode.EXTRACT_SE, MAX_RECEIVES, metrics,
                    Clock.systemUTC());
            BatchProcessor batches = new BatchProcessor(pool, new JobMessageParser(), processor,
                    new DeadLetterQueue(sqsClient, queues.dlqUrl()), metrics, Clock.systemUTC());
            OutboxPublisher events = new OutboxPublisher(new EventOutbox(db.dataSource()),
                    new SqsEventSink(sqs.newClient(), eventsQueue), metrics);
            closeables.add(events);
            VoiceEmbeddingHandler handler = new VoiceEmbeddingHandler(batches, metrics, DEADLINE_MARGIN,
                    Clock.systemUTC(), Optional.of(events));
            LambdaSide side = new LambdaSide(handler, sqsClient, queues.queueUrl());
            side.events = events;
            closeables.add(side.mapping);
            return side;
        }
    }

    /** The ECS worker's configuration: the same queue, bucket and Qdrant collection as the Lambda side. */
    private static Map<String, String> workerEnv(TestDatabase db, EmbeddedS3 s3, EmbeddedSqs sqs,
                                                 EmbeddedSqs.QueuePair queues, FakeQdrant qdrant, String eventsQueue) {
        Map<String, String> env = new HashMap<>();
        env.putAll(db.env());
        env.putAll(s3.env());
        env.putAll(sqs.env());
        env.put("TIMBRE_S3_BUCKET", BUCKET);
        env.put("TIMBRE_QUEUE_URL", queues.queueUrl());
        env.put("TIMBRE_DLQ_URL", queues.dlqUrl());
        env.put("TIMBRE_QDRANT_URL", qdrant.url());
        env.put("TIMBRE_QDRANT_COLLECTION", COLLECTION);
        env.put("TIMBRE_EVENTS_QUEUE_URL", eventsQueue);
        env.put("TIMBRE_MAX_RECEIVES", String.valueOf(MAX_RECEIVES));
        env.put("TIMBRE_CONVERTER_DIR", PipelineHarness.CONVERTER.toAbsolutePath().normalize().toString());
        env.put("TIMBRE_WORKER_THREADS", "1");
        env.put("TIMBRE_SE_MODE", "extract-se"); // synthetic clips, not speech
        env.put("TIMBRE_LOG_FORMAT", "json");
        return env;
    }

    // ----------------------------------------------------------------------------------------------- report

    private record Counts(int completed, int failed) {
    }

    private static Counts counts(TestDatabase db) {
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

    /** Publishes what is left in the outbox (the database is healthy again); returns what is still left then. */
    private static int drainOutbox(OutboxPublisher events, TestDatabase db) throws Exception {
        EventOutbox outbox = new EventOutbox(db.dataSource());
        long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
        while (System.nanoTime() < deadline) {
            events.publishPending(Duration.ofSeconds(5));
            if (outbox.oldestUnpublishedAge().isEmpty()) {
                return 0;
            }
            Thread.sleep(500); // refused or leased events wait for their retry time or lease
        }
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT count(*) FROM job_events WHERE published_at IS NULL")) {
            r.next();
            return r.getInt(1);
        }
    }

    /**
     * Reads the events queue out and counts: one distinct event per terminal job with its final status, no other
     * (docs/architecture.md §13). A Failed event of a job COMPLETED later is counted apart: a copy of its message took
     * the FAILED row up again, and both transitions committed.
     */
    private static ChaosReport.Events events(TestDatabase db, SqsClient sqs, String eventsQueue, int unpublished,
                                             List<String> failures) throws Exception {
        Map<UUID, String> finalStatus = new HashMap<>();
        Set<UUID> others = new HashSet<>();
        try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT id, status, is_deleted FROM voice_processing_jobs")) {
            while (r.next()) {
                String status = r.getString(2);
                if (!r.getBoolean(3) && (status.equals("COMPLETED") || status.equals("FAILED"))) {
                    finalStatus.put((UUID) r.getObject(1), status);
                } else {
                    others.add((UUID) r.getObject(1));
                }
            }
        }
        Map<String, String[]> byId = new HashMap<>(); // event id -> {job id, status}
        int messages = 0;
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        while (true) {
            List<Message> got = sqs.receiveMessage(b -> b.queueUrl(eventsQueue).maxNumberOfMessages(10)
                    .waitTimeSeconds(1)).messages();
            if (got.isEmpty()) {
                break;
            }
            for (Message m : got) {
                messages++;
                var detail = json.readTree(m.body()).path("detail");
                byId.put(detail.path("event_id").asText(), new String[] {detail.path("job_id").asText(),
                        detail.path("status").asText()});
                sqs.deleteMessage(b -> b.queueUrl(eventsQueue).receiptHandle(m.receiptHandle()));
            }
        }
        Set<UUID> withFinalEvent = new HashSet<>();
        int extra = 0;
        int superseded = 0;
        for (Map.Entry<String, String[]> e : byId.entrySet()) {
            UUID job = UUID.fromString(e.getValue()[0]);
            String status = e.getValue()[1];
            if (!e.getKey().equals(JobEvents.eventId(job, status).toString())) {
                extra++;
                failures.add("event " + e.getKey() + " does not carry the stable id of job " + job + " " + status);
            } else if (status.equals(finalStatus.get(job))) {
                withFinalEvent.add(job);
            } else if (status.equals("FAILED") && "COMPLETED".equals(finalStatus.get(job))) {
                superseded++;
            } else {
                extra++;
                failures.add("event " + status + " of job " + job + (others.contains(job) ? ", which is not terminal"
                        : finalStatus.containsKey(job) ? ", which ended " + finalStatus.get(job) : ", unknown"));
            }
        }
        int missing = finalStatus.size() - withFinalEvent.size();
        if (missing > 0) {
            failures.add(missing + " terminal jobs without their completion event");
        }
        if (unpublished > 0) {
            failures.add(unpublished + " events left unpublished in the outbox");
        }
        return new ChaosReport.Events(finalStatus.size(), byId.size(), messages, missing, extra, superseded,
                unpublished);
    }

    private static ChaosReport report(ChaosSettings settings, long start, TestDatabase db, SqsClient sqs,
                                      String dlqUrl, String eventsQueue, int unpublished, FakeQdrant qdrant,
                                      Workload work, BridgeRun.Leftovers leftovers,
                                      List<Path> childLogs, ChaosReport.Faults faults, Memory memory,
                                      List<String> invariant) throws Exception {
        List<String> failures = new ArrayList<>();
        invariant.forEach(v -> failures.add("job lifecycle invariant: " + v));
        List<Long> latencies = new ArrayList<>();
        ChaosReport.Jobs jobs = jobs(db, qdrant, work, invariant.size(), latencies, failures);
        ChaosReport.Queues queues = queues(settings, sqs, dlqUrl, work.poisonBodies, leftovers, failures);
        ChaosReport.Events events = events(db, sqs, eventsQueue, unpublished, failures);
        int secretsInChildLogs = secretsIn(childLogs, failures);
        long[] sorted = latencies.stream().mapToLong(Long::longValue).sorted().toArray();
        return new ChaosReport(settings, (System.nanoTime() - start) / 1_000_000_000, jobs, queues, events, faults,
                new ChaosReport.Latency(percentile(sorted, 50), percentile(sorted, 95), percentile(sorted, 99)),
                new ChaosReport.Processes(childLogs.size(), secretsInChildLogs, memory.slope(memory.floors(memory.heap)),
                        memory.slope(memory.rss), memory.max(memory.heap), memory.max(memory.rss)),
                failures);
    }

    /** The rows and points; adds the end-to-end time of each completed job to {@code latencies}. */
    private static ChaosReport.Jobs jobs(TestDatabase db, FakeQdrant qdrant, Workload work, int invariantViolations,
                                         List<Long> latencies, List<String> failures) throws Exception {
        int completed = 0;
        int failedBad = 0;
        int gaveUp = 0;
        int lost = 0;
        int stuck = 0;
        int pointsOfNonCompleted = 0;
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
                        if (work.bad.contains(id)) {
                            failures.add("bad job " + id + " COMPLETED");
                        }
                    }
                    case "FAILED" -> {
                        if (work.bad.contains(id) && error != null && error.contains("audio")) {
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
        for (UUID id : work.good) {
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
        if (completed != work.good.size()) {
            failures.add("completed " + completed + " of " + work.good.size() + " good jobs");
        }
        if (failedBad != work.bad.size()) {
            failures.add("bad jobs FAILED: " + failedBad + " of " + work.bad.size());
        }
        if (lost > 0) {
            failures.add(lost + " jobs lost (not terminal)");
        }
        if (duplicatePoints != 0) {
            failures.add(duplicatePoints + " duplicate points");
        }
        return new ChaosReport.Jobs(completed, failedBad, gaveUp, lost, stuck, points, duplicatePoints,
                pointsOfNonCompleted, invariantViolations);
    }

    /** Reads the SQS DLQ out (it is empty afterwards) and takes what the bridge's broker queues held. */
    private static ChaosReport.Queues queues(ChaosSettings settings, SqsClient sqs, String dlqUrl, Set<String> poison,
                                             BridgeRun.Leftovers leftovers, List<String> failures) {
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
        if (leftovers.ready() != 0) {
            failures.add(leftovers.ready() + " messages left in RabbitMQ");
        }
        if (!leftovers.deadLetteredOnlyUnsendable()) {
            failures.add("the bridge's dead-letter queue holds " + leftovers.deadLettered()
                    + " messages, not exactly the " + settings.unsendable() + " unsendable ones");
        }
        if (!dlqOnlyPoison) {
            failures.add("DLQ holds " + new HashSet<>(dead).size() + " distinct messages, not exactly the "
                    + poison.size() + " poison ones");
        }
        return new ChaosReport.Queues(dead.size(), dlqOnlyPoison, dlqCopies, leftovers.ready(),
                leftovers.deadLettered(), leftovers.deadLetteredOnlyUnsendable());
    }

    /** How many times a secret the child processes were given shows in their logs. */
    private static int secretsIn(List<Path> childLogs, List<String> failures) throws Exception {
        int found = 0;
        for (Path log : childLogs) {
            String text = Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
            for (String secret : CHILD_SECRETS) {
                if (text.contains(secret)) {
                    found++;
                    failures.add("the log " + log + " contains a secret (" + secret.length() + " characters)");
                }
            }
        }
        return found;
    }

    private static long percentile(long[] sorted, int p) {
        if (sorted.length == 0) {
            return 0;
        }
        return sorted[Math.min(sorted.length - 1, (int) Math.ceil(p / 100.0 * sorted.length) - 1)];
    }

    /**
     * {@code bench/chaos.sh [flags]}, the flags of {@link ChaosSettings#USAGE}. Exits 0 when every figure is as
     * required, 1 otherwise, 2 on a bad flag.
     */
    public static void main(String[] args) throws Exception {
        List<String> argList = List.of(args);
        if (argList.contains("--help") || argList.contains("-h")) {
            System.out.println(ChaosSettings.USAGE);
            return;
        }
        ChaosSettings settings;
        try {
            settings = ChaosSettings.fromArgs(args);
        } catch (IllegalArgumentException e) {
            System.err.println("chaos: " + e.getMessage());
            System.exit(2);
            return;
        }
        int w = argList.indexOf("--write");
        String write = w >= 0 ? args[w + 1] : null;
        System.out.println("chaos: " + settings);
        ChaosReport report = run(settings, System.out);
        System.out.println(report.markdown());
        if (write != null) {
            Files.writeString(Path.of(write), report.markdown());
            System.out.println("figures written to " + write);
        }
        System.exit(report.passed() ? 0 : 1);
    }
}
