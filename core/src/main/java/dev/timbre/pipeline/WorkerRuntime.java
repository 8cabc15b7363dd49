package dev.timbre.pipeline;

import com.zaxxer.hikari.HikariDataSource;
import dev.timbre.config.InvalidConfigException;
import dev.timbre.config.TimbreConfig;
import dev.timbre.db.DatabasePool;
import dev.timbre.job.JobMessageParser;
import dev.timbre.job.JobStore;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.job.TransientJobException;
import dev.timbre.notify.EventOutbox;
import dev.timbre.notify.EventSinks;
import dev.timbre.notify.OutboxPublisher;
import dev.timbre.source.S3AudioSource;
import dev.timbre.store.EmbeddingStore;
import dev.timbre.store.EmbeddingStores;
import dev.timbre.tone.ToneColorExtractor;
import java.time.Clock;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.SqsClientBuilder;

/**
 * Everything a worker host holds for its whole life (docs/architecture.md §7): configuration, connection pool, S3 and SQS
 * clients, the embedding store's client, the model weights, the worker pool, and the job and batch processors
 * built on them. Built once per Lambda container or ECS process; the hosts only adapt delivery.
 *
 * <p>Owns every part it created and closes them in reverse order of creation ({@link #close()}): the worker
 * pool first (bounded wait for jobs in flight), then the extractor, the stores and clients, the connection
 * pool last. Thread-safe to use; close once.
 */
public final class WorkerRuntime implements AutoCloseable {

    private static final Logger log = LoggerFactory.getLogger(WorkerRuntime.class);

    /** CloudWatch namespace of the EMF metrics. */
    public static final String METRICS_NAMESPACE = "Timbre";

    private final TimbreConfig config;
    private final SqsClient sqs;
    private final BatchProcessor batches;
    private final PipelineMetrics metrics;
    private final Optional<OutboxPublisher> events;
    private final Deque<AutoCloseable> closeInReverse;

    private WorkerRuntime(TimbreConfig config, SqsClient sqs, BatchProcessor batches, PipelineMetrics metrics,
                          Optional<OutboxPublisher> events, Deque<AutoCloseable> closeInReverse) {
        this.config = config;
        this.sqs = sqs;
        this.batches = batches;
        this.metrics = metrics;
        this.events = events;
        this.closeInReverse = closeInReverse;
    }

    /** Reads the configuration from {@code env} and {@link #create}s the runtime. */
    public static WorkerRuntime fromEnvironment(Map<String, String> env, String service) {
        return create(TimbreConfig.fromEnv(env), service);
    }

    /**
     * Builds every part, logging what each cost (the cold-start budget is visible in the first log lines).
     *
     * @param service the EMF {@code Service} dimension: {@code timbre-lambda} or {@code timbre-ecs}
     * @throws InvalidConfigException when {@code TIMBRE_DLQ_URL} is missing (poison messages need somewhere to go)
     */
    public static WorkerRuntime create(TimbreConfig config, String service) {
        String dlqUrl = requireDlq(config); // before a model load is started for nothing
        return create(config, service, dlqUrl,
                ToneColorExtractor.loadInBackground(config.converterDir(), config.limits()), true);
    }

    /**
     * As {@link #create(TimbreConfig, String)}, on an extractor the caller loads and keeps owning (not closed by
     * {@link #close()}): the Lambda's SnapStart hooks close and re-create the connections around a snapshot while
     * the weights stay loaded. The caller may still be loading it ({@link ToneColorExtractor#loadInBackground}):
     * the connections are opened meanwhile, and this waits for it last.
     */
    public static WorkerRuntime create(TimbreConfig config, String service,
                                       CompletableFuture<ToneColorExtractor> sharedExtractor) {
        return create(config, service, requireDlq(config), sharedExtractor, false);
    }

    private static String requireDlq(TimbreConfig config) {
        return config.dlqUrl().orElseThrow(() -> new InvalidConfigException(
                "TIMBRE_DLQ_URL is required: poison messages are moved there")).toString();
    }

    /**
     * @param dlqUrl    the checked {@code TIMBRE_DLQ_URL}
     * @param model     the extractor, perhaps still loading on its own thread (its engine start and weights
     *                  overlap the pool and clients here)
     * @param ownsModel close the extractor with the runtime, or when start-up fails
     */
    private static WorkerRuntime create(TimbreConfig config, String service, String dlqUrl,
                                        CompletableFuture<ToneColorExtractor> model, boolean ownsModel) {
        log.atInfo().addKeyValue("config", config.toString()).log("worker starting");
        long start = System.nanoTime();
        Deque<AutoCloseable> owned = new ArrayDeque<>();
        boolean modelTaken = false;
        try {
            long t = System.nanoTime();
            HikariDataSource dataSource = DatabasePool.open(config);
            owned.push(dataSource);
            JobStore jobs = new PostgresJobStore(dataSource);
            long dbMs = millisSince(t);

            t = System.nanoTime();
            S3AudioSource audio = S3AudioSource.fromConfig(config);
            owned.push(audio);
            SqsClient sqs = sqsClient(config);
            owned.push(sqs);
            long awsMs = millisSince(t);

            t = System.nanoTime();
            EmbeddingStore store = EmbeddingStores.fromConfig(config, dataSource);
            owned.push(store);
            try {
                store.ensureReady();
            } catch (TransientJobException e) {
                // Qdrant down at start: jobs fail transiently (and are retried) until it is back; a wrong
                // collection shape (IllegalStateException) still stops start-up.
                log.atWarn().log("embedding store not reachable at start: {}", e.getMessage());
            }
            long storeMs = millisSince(t);

            t = System.nanoTime();
            ToneColorExtractor extractor = ToneColorExtractor.await(model); // most of it loaded meanwhile
            if (ownsModel) {
                owned.push(extractor);
            }
            modelTaken = true;
            long modelWaitMs = millisSince(t);

            // Completion events (docs/architecture.md §13): the outbox rows are written by the job store; this
            // publishes them. Its metrics have their own instance, flushed by the sweeper, so that a sweep never
            // splits a batch's metrics line.
            Optional<OutboxPublisher> events = EventSinks.fromConfig(config).map(sink -> new OutboxPublisher(
                    new EventOutbox(dataSource), sink,
                    new PipelineMetrics(System.out, METRICS_NAMESPACE, service, Clock.systemUTC())));
            events.ifPresent(owned::push);

            WorkerPool pool = new WorkerPool(config.workerThreads());
            owned.push(pool);

            PipelineMetrics metrics = new PipelineMetrics(System.out, METRICS_NAMESPACE, service, Clock.systemUTC());
            JobProcessor processor = new JobProcessor(jobs, audio, store, new ToneColorEmbedder(extractor), config.seMode(),
                    config.maxReceives(), metrics, Clock.systemUTC());
            BatchProcessor batches = new BatchProcessor(pool, new JobMessageParser(), processor,
                    new DeadLetterQueue(sqs, dlqUrl), metrics, Clock.systemUTC());

            log.atInfo().addKeyValue("init_ms", millisSince(start)).addKeyValue("db_ms", dbMs)
                    .addKeyValue("aws_clients_ms", awsMs).addKeyValue("embedding_store_ms", storeMs)
                    .addKeyValue("model_wait_ms", modelWaitMs).addKeyValue("worker_threads", pool.threads())
                    .addKeyValue("embedding_store", store.collection()).addKeyValue("model", extractor.modelId())
                    .addKeyValue("event_sink", events.map(OutboxPublisher::sinkDescription).orElse("none"))
                    .log("worker initialised");
            return new WorkerRuntime(config, sqs, batches, metrics, events, owned);
        } catch (RuntimeException | Error e) {
            if (!modelTaken) {
                closeWhenLoaded(model, ownsModel); // start-up failed before it took the extractor
            }
            closeAll(owned);
            throw e;
        }
    }

    /** Closes an owned extractor once its load finishes (at once if it has), so a failed start leaks no weights. */
    private static void closeWhenLoaded(CompletableFuture<ToneColorExtractor> model, boolean ownsModel) {
        if (ownsModel) {
            model.thenAccept(ToneColorExtractor::close);
        }
    }

    /** An SQS client on the configured endpoint (the SDK's own {@code AWS_ENDPOINT_URL_SQS} rule). */
    public static SqsClient sqsClient(TimbreConfig config) {
        SqsClientBuilder builder = SqsClient.builder()
                .region(Region.of(config.awsRegion()))
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                // No Netty or Apache pool to start: the cheapest client at a Lambda cold start.
                .httpClient(UrlConnectionHttpClient.create());
        config.sqsEndpoint().ifPresent(builder::endpointOverride);
        return builder.build();
    }

    public TimbreConfig config() {
        return config;
    }

    public BatchProcessor batches() {
        return batches;
    }

    public PipelineMetrics metrics() {
        return metrics;
    }

    /**
     * The publisher of completion events, when a sink is configured (docs/architecture.md §13). Hosts publish after
     * a batch ({@link OutboxPublisher#publishPending}) or run its sweeper; it is closed with the runtime.
     */
    public Optional<OutboxPublisher> events() {
        return events;
    }

    /** The SQS client, for hosts that poll and delete themselves (ECS). */
    public SqsClient sqs() {
        return sqs;
    }

    @Override
    public void close() {
        closeAll(closeInReverse);
    }

    private static void closeAll(Deque<AutoCloseable> owned) {
        while (!owned.isEmpty()) {
            AutoCloseable part = owned.pop();
            try {
                part.close();
            } catch (Exception e) {
                log.atWarn().log("closing {} failed: {}", part.getClass().getSimpleName(), e.toString());
            }
        }
    }

    private static long millisSince(long nanos) {
        return (System.nanoTime() - nanos) / 1_000_000;
    }
}
