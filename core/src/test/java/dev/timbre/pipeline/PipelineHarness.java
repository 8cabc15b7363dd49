package dev.timbre.pipeline;

import dev.timbre.audio.AudioLimits;
import dev.timbre.job.JobMessageParser;
import dev.timbre.job.JobRecord;
import dev.timbre.job.JobStore;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.local.EmbeddedS3;
import dev.timbre.local.EmbeddedSqs;
import dev.timbre.local.VoiceSpec;
import dev.timbre.local.VoiceSynth;
import dev.timbre.local.WavWriter;
import dev.timbre.source.AudioSource;
import dev.timbre.source.S3AudioSource;
import dev.timbre.store.EmbeddingStore;
import dev.timbre.store.QdrantEmbeddingStore;
import dev.timbre.testing.FakeQdrant;
import dev.timbre.testing.TestDatabase;
import dev.timbre.tone.ToneColorExtractor;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.ReceiveMessageRequest;

/**
 * The real pieces of a worker, wired the way {@link WorkerRuntime} wires them, against real protocol servers:
 * Postgres (a fresh database), S3Proxy, ElasticMQ (for the DLQ) and the in-process Qdrant. The extractor is the
 * real one on the fixture checkpoint, loaded once per JVM. Each test class starts one harness.
 */
public final class PipelineHarness implements AutoCloseable {

    public static final Path CONVERTER = Path.of("..", "infra", "model", "fixtures", "converter");
    public static final String BUCKET = "timbre-uploads";
    public static final String COLLECTION = "voice_embeddings";

    private static ToneColorExtractor sharedExtractor;

    public final TestDatabase db;
    public final EmbeddedS3 s3;
    public final S3Client s3Client;
    public final EmbeddedSqs sqs;
    public final SqsClient sqsClient;
    public final String dlqUrl;
    public final FakeQdrant qdrant;
    public final JobStore jobs;
    public final AudioSource audio;
    public final EmbeddingStore store;
    public final ByteArrayOutputStream emf = new ByteArrayOutputStream();
    public final PipelineMetrics metrics;
    private final List<AutoCloseable> closeables = new ArrayList<>();

    private PipelineHarness() {
        db = TestDatabase.create();
        s3 = EmbeddedS3.start();
        s3.createBucket(BUCKET);
        s3Client = s3.newClient();
        sqs = EmbeddedSqs.start();
        sqsClient = sqs.newClient();
        dlqUrl = sqs.createQueue("jobs-dlq-" + UUID.randomUUID().toString().substring(0, 8), Duration.ofSeconds(30));
        qdrant = FakeQdrant.start();
        jobs = new PostgresJobStore(db.dataSource());
        audio = new S3AudioSource(s3Client, BUCKET, Set.of(BUCKET), AudioLimits.DEFAULT.maxBytes());
        store = new QdrantEmbeddingStore(qdrant.newClient(), COLLECTION, 256, Duration.ofSeconds(5));
        store.ensureReady();
        metrics = new PipelineMetrics(new PrintStream(emf, true, StandardCharsets.UTF_8), "Timbre", "test", Clock.systemUTC());
    }

    public static PipelineHarness start() {
        return new PipelineHarness();
    }

    /** The real extractor on the fixture checkpoint; the weights are loaded once per JVM. */
    public static synchronized ToneColorExtractor extractor() {
        if (sharedExtractor == null) {
            sharedExtractor = ToneColorExtractor.load(CONVERTER, AudioLimits.DEFAULT);
        }
        return sharedExtractor;
    }

    public WorkerPool pool(int threads) {
        WorkerPool pool = new WorkerPool(threads);
        closeables.add(pool);
        return pool;
    }

    public BatchProcessor batches(WorkerPool pool, Embedder embedder, int maxReceives) {
        return batches(pool, embedder, maxReceives, dlqUrl);
    }

    public BatchProcessor batches(WorkerPool pool, Embedder embedder, int maxReceives, String deadLetterUrl) {
        JobProcessor processor = new JobProcessor(jobs, audio, store, embedder, dev.timbre.tone.SeMode.EXTRACT_SE, maxReceives, metrics, Clock.systemUTC());
        return new BatchProcessor(pool, new JobMessageParser(), processor,
                new DeadLetterQueue(sqsClient, deadLetterUrl), metrics, Clock.systemUTC());
    }

    /**
     * The environment a real worker ({@code WorkerRuntime.fromEnvironment}) needs to run against these servers: the
     * database, S3, SQS, the bucket, the DLQ, the fixture converter and two worker threads. Mutable: callers add
     * their own.
     */
    public Map<String, String> workerEnv() {
        Map<String, String> env = new HashMap<>();
        env.putAll(db.env());
        env.putAll(s3.env());
        env.putAll(sqs.env());
        env.put("TIMBRE_S3_BUCKET", BUCKET);
        env.put("TIMBRE_DLQ_URL", dlqUrl);
        env.put("TIMBRE_CONVERTER_DIR", CONVERTER.toAbsolutePath().toString());
        env.put("TIMBRE_WORKER_THREADS", "2");
        // The clips of these tests are synthetic, not speech: get-se's VAD would keep nothing of them
        env.put("TIMBRE_SE_MODE", "extract-se");
        return env;
    }

    /** Synthetic voice audio: a 22.05 kHz 16-bit WAV, different for each {@code seed}. */
    public static byte[] voiceWav(int seed, double seconds) {
        VoiceSpec[] voices = VoiceSpec.demoVoices();
        float[] samples = new VoiceSynth(22050).synthesize(voices[Math.floorMod(seed, voices.length)], seconds, seed);
        return WavWriter.pcm16(samples, 22050);
    }

    /** A job row (PENDING) and its uploaded audio. */
    public UUID submit(String voiceId, byte[] audioBytes) {
        UUID jobId = UUID.randomUUID();
        String key = key(voiceId, jobId);
        s3.put(BUCKET, key, audioBytes);
        jobs.create(jobId, voiceId, key);
        return jobId;
    }

    public static String key(String voiceId, UUID jobId) {
        return "uploads/" + voiceId + "/" + jobId + ".wav";
    }

    public static String body(UUID jobId, String voiceId) {
        return "{\"job_id\":\"" + jobId + "\",\"voice_id\":\"" + voiceId + "\",\"s3_key\":\"" + key(voiceId, jobId)
                + "\",\"metadata\":{\"filename\":\"take.wav\"}}";
    }

    public JobRecord job(UUID jobId) {
        return jobs.find(jobId).orElseThrow(() -> new AssertionError("no job row " + jobId));
    }

    /** Everything in the DLQ now, with attributes; removed from the queue. */
    public List<Message> drainDlq() {
        List<Message> all = new ArrayList<>();
        while (true) {
            List<Message> got = sqsClient.receiveMessage(ReceiveMessageRequest.builder().queueUrl(dlqUrl)
                    .maxNumberOfMessages(10).waitTimeSeconds(0).messageAttributeNames("All").build()).messages();
            if (got.isEmpty()) {
                return all;
            }
            all.addAll(got);
            for (Message m : got) {
                sqsClient.deleteMessage(b -> b.queueUrl(dlqUrl).receiptHandle(m.receiptHandle()));
            }
        }
    }

    public String emfOutput() {
        return emf.toString(StandardCharsets.UTF_8);
    }

    @Override
    public void close() {
        for (AutoCloseable c : closeables) {
            try {
                c.close();
            } catch (Exception ignored) {
                // best effort in tests
            }
        }
        store.close();
        qdrant.close();
        sqsClient.close();
        sqs.close();
        s3Client.close();
        s3.close();
        db.close();
    }
}
