package dev.timbre.pipeline;

import dev.timbre.tone.Extraction;
import dev.timbre.tone.ToneColorExtractor;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The real extractor behind the {@link Embedder} seam, observed: records which thread ran each extraction,
 * with which converter, and when. Optionally holds back extractions of chosen audio (the one injected fault:
 * a job that is slow) until released.
 */
public final class RecordingEmbedder implements Embedder {

    /** One extraction: thread, converter identity, and its execution interval. */
    public record Call(String thread, Object converter, long startNanos, long endNanos, int audioHash) {
        public boolean overlaps(Call other) {
            return startNanos < other.endNanos && other.startNanos < endNanos;
        }
    }

    private final ToneColorExtractor extractor;
    private final ConcurrentLinkedQueue<Call> calls = new ConcurrentLinkedQueue<>();
    private final Map<Integer, CountDownLatch> heldBack = new ConcurrentHashMap<>();

    public RecordingEmbedder(ToneColorExtractor extractor) {
        this.extractor = extractor;
    }

    /** Extractions of exactly this audio wait until {@link #releaseAll()} (at most 60 s). */
    public void holdBack(byte[] audio) {
        heldBack.put(java.util.Arrays.hashCode(audio), new CountDownLatch(1));
    }

    public void releaseAll() {
        heldBack.values().forEach(CountDownLatch::countDown);
    }

    @Override
    public Extraction extract(byte[] encodedAudio, dev.timbre.tone.SeMode mode) {
        int hash = java.util.Arrays.hashCode(encodedAudio);
        long start = System.nanoTime();
        try {
            CountDownLatch latch = heldBack.get(hash);
            if (latch != null && !latch.await(60, TimeUnit.SECONDS)) {
                throw new IllegalStateException("held-back extraction was never released");
            }
            return extractor.extract(encodedAudio, mode);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        } finally {
            Object converter = extractor.converterForCurrentThread();
            calls.add(new Call(Thread.currentThread().getName(), converter, start, System.nanoTime(), hash));
        }
    }

    @Override
    public String modelId() {
        return extractor.modelId();
    }

    public List<Call> calls() {
        return List.copyOf(calls);
    }

    public int callCount() {
        return calls.size();
    }
}
