package dev.timbre.lambda;

import dev.timbre.config.TimbreConfig;
import dev.timbre.pipeline.WorkerRuntime;
import dev.timbre.tone.ToneColorExtractor;
import java.util.concurrent.CompletableFuture;
import org.crac.Context;
import org.crac.Core;
import org.crac.Resource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The function's runtime as a CRaC {@link Resource}, so the container can be snapshotted (Lambda SnapStart,
 * template.yaml's {@code SnapStart} parameter) and restored many times over.
 *
 * <p>What a snapshot may hold: the loaded weights and the JIT-warm engine, identical in every restored copy.
 * What it must not hold: sockets and pools (the database pool, the S3/SQS HTTP connections, Qdrant's gRPC
 * channel), which would be shared, half-open, by every copy restored from one snapshot. So {@link
 * #beforeCheckpoint} primes the engine with one inference (the first real job then runs on warm code) and closes
 * the connections; {@link #afterRestore} opens new ones. Randomness: the code here keeps no {@code Random} of its
 * own; the SDK and driver objects that do (retry jitter, request ids) are all built anew after restore, and
 * {@code SecureRandom} (UUIDs) is restore-safe in Lambda's Java runtime.
 */
final class SnapStartRuntime implements Resource {

    private static final Logger log = LoggerFactory.getLogger(SnapStartRuntime.class);

    private final TimbreConfig config;
    private final String service;
    private final ToneColorExtractor extractor;
    private volatile WorkerRuntime runtime;

    SnapStartRuntime(TimbreConfig config, String service) {
        this.config = config;
        this.service = service;
        // the engine and weights load while the runtime opens its connections; create waits for them last
        var loading = ToneColorExtractor.loadInBackground(config.converterDir(), config.limits());
        try {
            this.runtime = WorkerRuntime.create(config, service, loading);
        } catch (RuntimeException | Error e) {
            loading.thenAccept(ToneColorExtractor::close); // this owns the extractor: no weights outlive a failed init
            throw e;
        }
        this.extractor = ToneColorExtractor.await(loading); // done: create waited for it
    }

    /** Builds it from the environment and registers it with the global CRaC context (a no-op without CRaC). */
    static SnapStartRuntime registered(TimbreConfig config, String service) {
        SnapStartRuntime r = new SnapStartRuntime(config, service);
        Core.getGlobalContext().register(r);
        return r;
    }

    /** The connections and pipeline of now; a new one after each restore. */
    WorkerRuntime runtime() {
        WorkerRuntime r = runtime;
        if (r == null) {
            throw new IllegalStateException("the runtime is checkpointed (between beforeCheckpoint and afterRestore)");
        }
        return r;
    }

    ToneColorExtractor extractor() {
        return extractor;
    }

    @Override
    public synchronized void beforeCheckpoint(Context<? extends Resource> context) {
        long t = System.nanoTime();
        float[] primed = extractor.embed(primingSignal(extractor.sampleRate()));
        WorkerRuntime r = runtime;
        runtime = null;
        if (r != null) {
            r.close();
        }
        log.atInfo().addKeyValue("prime_ms", (System.nanoTime() - t) / 1_000_000)
                .addKeyValue("embedding_size", primed.length).log("snapshot: engine primed, connections closed");
    }

    @Override
    public synchronized void afterRestore(Context<? extends Resource> context) {
        long t = System.nanoTime();
        runtime = WorkerRuntime.create(config, service, CompletableFuture.completedFuture(extractor));
        log.atInfo().addKeyValue("reconnect_ms", (System.nanoTime() - t) / 1_000_000)
                .log("restore: connections re-opened");
    }

    /** Two seconds of a voiced, deterministic signal (harmonics of 140 Hz): enough for every layer to run. */
    static float[] primingSignal(int sampleRate) {
        float[] samples = new float[2 * sampleRate];
        for (int i = 0; i < samples.length; i++) {
            double t = (double) i / sampleRate;
            double v = 0;
            for (int h = 1; h <= 8; h++) {
                v += Math.sin(2 * Math.PI * 140 * h * t) / h;
            }
            samples[i] = (float) (0.2 * v);
        }
        return samples;
    }
}
