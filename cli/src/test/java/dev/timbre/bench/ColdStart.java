package dev.timbre.bench;

import dev.timbre.config.TimbreConfig;
import dev.timbre.db.DatabasePool;
import dev.timbre.source.S3AudioSource;
import dev.timbre.tone.Extraction;
import dev.timbre.tone.ToneColorExtractor;
import dev.timbre.tone.TorchEngine;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Instant;
import java.util.Locale;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.SqsClientBuilder;

/**
 * One cold start, measured from inside a fresh JVM (child of {@link ColdStartBenchmark}; not a test). It builds what
 * a worker container builds before it can take a batch, timing each part: the configuration, the connection pool
 * (first connection), the S3 and SQS clients, libtorch's own library load, the rest of the PyTorch engine (natives
 * already extracted in {@code DJL_CACHE_DIR}, as the image has them), the converter weights; then the first embedding
 * of a WAV file (decode, resample, extract). In sequence by default; with {@code -Dcoldstart.parallelModel=true} the
 * engine and weights load on a second thread, as {@code WorkerRuntime} does. The process start time comes from the
 * launching script ({@code -Dcoldstart.launchEpochNanos}). Prints one JSON line; takes the file to embed as its only
 * argument.
 */
public final class ColdStart {
    private ColdStart() {
    }

    public static void main(String[] args) throws Exception {
        Instant entered = Instant.now();
        long launch = Long.getLong("coldstart.launchEpochNanos", 0L);
        double jvmMs = launch == 0 ? Double.NaN
                : (entered.getEpochSecond() * 1_000_000_000L + entered.getNano() - launch) / 1e6;
        // -Dcoldstart.parallelModel=true: the engine and weights load on a second thread while the main thread
        // builds logging, configuration, pool and clients (what WorkerRuntime does); their own times are then
        // measured on that thread, and "ready" waits for both.
        boolean parallel = Boolean.getBoolean("coldstart.parallelModel");
        java.util.concurrent.CompletableFuture<double[]> model = parallel
                ? java.util.concurrent.CompletableFuture.supplyAsync(ColdStart::loadModel, ColdStart::startThread)
                : null;
        long t = System.nanoTime();
        Logger log = LoggerFactory.getLogger(ColdStart.class);
        log.info("cold start");
        double loggingMs = since(t);

        t = System.nanoTime();
        TimbreConfig config = TimbreConfig.fromEnv(System.getenv());
        double configMs = since(t);

        t = System.nanoTime();
        DataSource pool = DatabasePool.open(config);
        try (Connection c = pool.getConnection()) {
            c.isValid(5);
        }
        double dbMs = since(t);

        t = System.nanoTime();
        S3Client s3 = S3AudioSource.newClient(config);
        SqsClientBuilder sqsBuilder = SqsClient.builder().region(Region.of(config.awsRegion()))
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .httpClient(UrlConnectionHttpClient.create());
        config.sqsEndpoint().ifPresent(sqsBuilder::endpointOverride);
        SqsClient sqs = sqsBuilder.build();
        double clientsMs = since(t);

        double[] modelMs = parallel ? model.join() : loadModel();
        double dlopenMs = modelMs[0];
        double engineMs = modelMs[1];
        double weightsMs = modelMs[2];
        ToneColorExtractor extractor = ToneColorExtractor.load(config.converterDir(), config.limits()); // shared: instant
        double readyMs = sinceLaunch(launch);

        t = System.nanoTime();
        Extraction first = extractor.extract(Files.readAllBytes(Path.of(args[0])));
        double embedMs = since(t);
        double firstMs = sinceLaunch(launch);
        if (first.embedding().length != extractor.dimension()) {
            throw new IllegalStateException("embedding of " + first.embedding().length + " floats");
        }
        System.out.printf(Locale.ROOT, "{\"jvm_ms\": %.1f, \"logging_ms\": %.1f, \"config_ms\": %.1f, \"db_ms\": %.1f,"
                        + " \"clients_ms\": %.1f, \"dlopen_ms\": %.1f, \"engine_ms\": %.1f, \"weights_ms\": %.1f,"
                        + " \"ready_ms\": %.1f,"
                        + " \"embed_ms\": %.1f, \"first_ms\": %.1f}%n", jvmMs, loggingMs, configMs, dbMs, clientsMs,
                dlopenMs, engineMs, weightsMs, readyMs, embedMs, firstMs);
        extractor.close();
        s3.close();
        sqs.close();
        ((AutoCloseable) pool).close();
    }

    /**
     * Starts the engine and loads the converter named by {@code TIMBRE_CONVERTER_DIR}; {libtorch dlopen ms, rest of
     * the engine ms, weights ms}. libtorch_cpu.so is first opened on its own (its RUNPATH brings libc10 and libgomp):
     * that is the library's own cost (relocations, static initialisers that register its operators), which no JVM
     * option changes; DJL's engine start then finds it mapped.
     */
    private static double[] loadModel() {
        long t = System.nanoTime();
        // -1 on the untimed prepare run, which finds the cache empty (DJL extracts the natives then)
        double dlopenMs = dlopenLibtorch() ? since(t) : -1;
        t = System.nanoTime();
        TorchEngine.get();
        double engineMs = since(t);
        t = System.nanoTime();
        // kept open: the process-wide shared weights stay loaded for the main thread's load() to share
        ToneColorExtractor.load(Path.of(System.getenv("TIMBRE_CONVERTER_DIR")), dev.timbre.audio.AudioLimits.DEFAULT);
        return new double[] {dlopenMs, engineMs, since(t)};
    }

    @SuppressWarnings("restricted") // the launcher passes --enable-native-access=ALL-UNNAMED
    private static boolean dlopenLibtorch() {
        Path natives = Path.of(System.getenv("DJL_CACHE_DIR"), "pytorch");
        if (!Files.isDirectory(natives)) {
            return false;
        }
        try (var found = Files.find(natives, 2,
                (path, attributes) -> path.getFileName().toString().equals("libtorch_cpu.so"))) {
            var library = found.findFirst();
            library.ifPresent(l -> java.lang.foreign.SymbolLookup.libraryLookup(l, java.lang.foreign.Arena.global()));
            return library.isPresent();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static void startThread(Runnable task) {
        Thread thread = new Thread(task, "model-loader");
        thread.setDaemon(true);
        thread.start();
    }

    private static double since(long nanos) {
        return (System.nanoTime() - nanos) / 1e6;
    }

    private static double sinceLaunch(long launch) {
        if (launch == 0) {
            return Double.NaN;
        }
        Instant now = Instant.now();
        return (now.getEpochSecond() * 1_000_000_000L + now.getNano() - launch) / 1e6;
    }
}
