package dev.timbre.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.tone.SeMode;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The {@link EmbeddingStore} contract (docs/architecture.md §5), run against every implementation by a subclass that says
 * how to open a store on a fresh, empty collection.
 */
abstract class EmbeddingStoreContractTest {

    static final int DIMENSION = 256;

    protected EmbeddingStore store;

    /** A store on a collection no other test uses; the test closes it. */
    protected abstract EmbeddingStore openStore(String collection, int dimension);

    @BeforeEach
    void openFreshStore() {
        store = openStore("contract_" + UUID.randomUUID().toString().replace("-", ""), DIMENSION);
        store.ensureReady();
    }

    @AfterEach
    void closeStore() {
        store.close();
    }

    static float[] randomVector(Random random) {
        float[] vector = new float[DIMENSION];
        for (int i = 0; i < vector.length; i++) {
            vector[i] = (float) random.nextGaussian();
        }
        return vector;
    }

    static float[] axis(int index) {
        float[] vector = new float[DIMENSION];
        vector[index] = 1f;
        return vector;
    }

    static StoredEmbedding embedding(UUID jobId, String voiceId, float[] vector) {
        return new StoredEmbedding(jobId, voiceId, vector, "openvoice-v2-ref_enc",
                Instant.parse("2026-11-29T02:00:00.123456Z"), 10.25);
    }

    @Test
    void ensureReadyIsIdempotent() {
        store.ensureReady();
        store.ensureReady();
    }

    @Test
    void upsertedPointReadsBackWithItsPayload() {
        UUID jobId = UUID.randomUUID();
        float[] vector = randomVector(new Random(1));

        store.upsert(embedding(jobId, "voice-42", vector));

        StoredEmbedding read = store.get(jobId).orElseThrow();
        assertEquals(jobId, read.jobId());
        assertEquals("voice-42", read.voiceId());
        assertArrayEquals(vector, read.vector());
        assertEquals("openvoice-v2-ref_enc", read.model());
        assertEquals(Instant.parse("2026-11-29T02:00:00.123456Z").truncatedTo(ChronoUnit.MICROS), read.processedAt());
        assertEquals(10.25, read.durationSeconds());
    }

    @Test
    void theModeIsStoredWithThePointAndAWholeClipPointIsExtractSe() {
        UUID getSe = UUID.randomUUID();
        UUID extractSe = UUID.randomUUID();
        store.upsert(withMode(embedding(getSe, "voice-m", axis(0)), SeMode.GET_SE));
        store.upsert(embedding(extractSe, "voice-m", axis(0)));

        assertEquals(SeMode.GET_SE, store.get(getSe).orElseThrow().seMode());
        assertEquals(SeMode.EXTRACT_SE, store.get(extractSe).orElseThrow().seMode());
    }

    @Test
    void nearestNeverMixesModesEvenWhenTheOtherModeIsCloser() {
        // given: the closest point to the query is get-se, the next ones extract-se, and the reverse
        UUID getSeClosest = UUID.randomUUID();
        UUID getSeFar = UUID.randomUUID();
        UUID extractSeNear = UUID.randomUUID();
        UUID extractSeFar = UUID.randomUUID();
        store.upsert(withMode(embedding(getSeClosest, "g1", axis(0)), SeMode.GET_SE));
        store.upsert(withMode(embedding(getSeFar, "g2", tilted(0.9f)), SeMode.GET_SE));
        store.upsert(embedding(extractSeNear, "e1", tilted(0.1f)));
        store.upsert(embedding(extractSeFar, "e2", tilted(0.5f)));

        // when / then: each search sees its own mode only, best first
        assertEquals(List.of(extractSeNear, extractSeFar),
                store.nearest(axis(0), 10, SeMode.EXTRACT_SE).stream().map(Neighbour::jobId).toList());
        assertEquals(List.of(getSeClosest, getSeFar),
                store.nearest(axis(0), 10, SeMode.GET_SE).stream().map(Neighbour::jobId).toList());
    }

    @Test
    void aPointRewrittenInTheOtherModeMovesToThatModesSearches() {
        UUID jobId = UUID.randomUUID();
        store.upsert(embedding(jobId, "voice-r", axis(0)));
        store.upsert(withMode(embedding(jobId, "voice-r", axis(0)), SeMode.GET_SE));

        assertEquals(List.of(), store.nearest(axis(0), 10, SeMode.EXTRACT_SE));
        assertEquals(List.of(jobId), store.nearest(axis(0), 10, SeMode.GET_SE).stream().map(Neighbour::jobId).toList());
    }

    static StoredEmbedding withMode(StoredEmbedding e, SeMode mode) {
        return new StoredEmbedding(e.jobId(), e.voiceId(), e.vector(), e.model(), e.processedAt(),
                e.durationSeconds(), mode);
    }

    /** Axis 0 tilted towards axis 1: the larger the tilt, the further from axis 0. */
    static float[] tilted(float tilt) {
        float[] v = axis(0);
        v[1] = tilt;
        return v;
    }

    @Test
    void missingPointIsEmpty() {
        assertTrue(store.get(UUID.randomUUID()).isEmpty());
    }

    @Test
    void deleteRemovesOnlyThatPointAndIsIdempotent() {
        UUID gone = UUID.randomUUID();
        UUID kept = UUID.randomUUID();
        store.upsert(embedding(gone, "voice-1", axis(0)));
        store.upsert(embedding(kept, "voice-1", axis(1)));

        store.delete(gone);
        store.delete(gone);
        store.delete(UUID.randomUUID());

        assertTrue(store.get(gone).isEmpty());
        assertTrue(store.get(kept).isPresent());
        assertEquals(List.of(kept), store.nearest(axis(0), 10, SeMode.EXTRACT_SE).stream().map(Neighbour::jobId).toList(),
                "a deleted point is never a neighbour");
    }

    @Test
    void upsertOfTheSameIdOverwritesInsteadOfDuplicating() {
        UUID jobId = UUID.randomUUID();
        store.upsert(embedding(jobId, "voice-1", axis(0)));

        store.upsert(embedding(jobId, "voice-1b", axis(1)));

        assertEquals("voice-1b", store.get(jobId).orElseThrow().voiceId());
        List<Neighbour> all = store.nearest(axis(1), 10, SeMode.EXTRACT_SE);
        assertEquals(1, all.size(), "one point per job id");
        assertEquals(1.0, all.get(0).score(), 1e-6);
    }

    @Test
    void nearestRanksByCosineSimilarityBestFirst() {
        UUID same = UUID.randomUUID();
        UUID close = UUID.randomUUID();
        UUID orthogonal = UUID.randomUUID();
        UUID opposite = UUID.randomUUID();
        float[] query = axis(0);
        float[] closeVector = axis(0);
        closeVector[1] = 1f; // 45 degrees: cosine 0.7071
        float[] oppositeVector = axis(0);
        oppositeVector[0] = -3f; // length does not matter for cosine
        store.upsert(embedding(orthogonal, "v-orthogonal", axis(2)));
        store.upsert(embedding(opposite, "v-opposite", oppositeVector));
        store.upsert(embedding(same, "v-same", scaled(query, 5f)));
        store.upsert(embedding(close, "v-close", closeVector));

        List<Neighbour> hits = store.nearest(query, 4, SeMode.EXTRACT_SE);

        assertEquals(List.of(same, close, orthogonal, opposite), hits.stream().map(Neighbour::jobId).toList());
        assertEquals(List.of("v-same", "v-close", "v-orthogonal", "v-opposite"),
                hits.stream().map(Neighbour::voiceId).toList());
        assertEquals(1.0, hits.get(0).score(), 1e-6);
        assertEquals(Math.sqrt(0.5), hits.get(1).score(), 1e-6);
        assertEquals(0.0, hits.get(2).score(), 1e-6);
        assertEquals(-1.0, hits.get(3).score(), 1e-6);
    }

    @Test
    void nearestReturnsAtMostK() {
        Random random = new Random(3);
        for (int i = 0; i < 5; i++) {
            store.upsert(embedding(UUID.randomUUID(), "v" + i, randomVector(random)));
        }

        assertEquals(2, store.nearest(randomVector(random), 2, SeMode.EXTRACT_SE).size());
        assertEquals(5, store.nearest(randomVector(random), 50, SeMode.EXTRACT_SE).size());
    }

    @Test
    void collectionsAreIsolated() {
        store.upsert(embedding(UUID.randomUUID(), "v", axis(0)));
        try (EmbeddingStore other = openStore("contract_other_" + UUID.randomUUID().toString().replace("-", ""),
                DIMENSION)) {
            other.ensureReady();
            assertEquals(List.of(), other.nearest(axis(0), 10, SeMode.EXTRACT_SE));
        }
    }

    @Test
    void vectorOfTheWrongDimensionIsRejected() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> store.upsert(embedding(UUID.randomUUID(), "v", new float[DIMENSION - 1])));
        assertTrue(e.getMessage().contains("255 dimensions"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> store.nearest(new float[3], 1, SeMode.EXTRACT_SE));
    }

    @Test
    void collectionNamesTheBackend() {
        assertTrue(store.collection().matches("(qdrant|postgres):contract_[0-9a-f]{32}"), store.collection());
    }

    @Test
    void concurrentUpsertsFromEightThreadsAllLand() throws Exception {
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Future<UUID>> writes = new ArrayList<>();
            for (int i = 0; i < 40; i++) {
                int seed = i;
                writes.add(pool.submit(() -> {
                    UUID id = UUID.randomUUID();
                    store.upsert(embedding(id, "v" + seed, randomVector(new Random(seed))));
                    return id;
                }));
            }
            Set<UUID> written = new HashSet<>();
            for (Future<UUID> write : writes) {
                written.add(write.get(30, TimeUnit.SECONDS));
            }

            Set<UUID> found = new HashSet<>();
            store.nearest(randomVector(new Random(99)), 100, SeMode.EXTRACT_SE).forEach(n -> found.add(n.jobId()));
            assertEquals(written, found);
        } finally {
            pool.shutdownNow();
        }
    }

    private static float[] scaled(float[] vector, float factor) {
        float[] copy = vector.clone();
        for (int i = 0; i < copy.length; i++) {
            copy[i] *= factor;
        }
        return copy;
    }
}
