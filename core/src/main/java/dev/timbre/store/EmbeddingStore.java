package dev.timbre.store;

import dev.timbre.tone.SeMode;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * Where embeddings live (docs/architecture.md §5): Qdrant when a URL is configured, else a Postgres table. Point id = job id,
 * so a redelivered job overwrites its own point. Faults of the backing service surface as
 * {@link dev.timbre.job.TransientJobException}.
 */
public interface EmbeddingStore extends AutoCloseable {

    /** Creates the collection / table and the voice_id and se_mode indexes if missing. Idempotent. */
    void ensureReady();

    /** Writes and waits until the write is applied (Qdrant: wait=true, status Completed). */
    void upsert(StoredEmbedding embedding);

    Optional<StoredEmbedding> get(UUID pointId);

    /**
     * Removes the point if it exists and waits until the removal is applied; removing a missing point is no error.
     * Used when a job ends FAILED or deleted after its point was written: a point must not outlive such a job.
     */
    void delete(UUID pointId);

    /**
     * The k nearest points of one embedding mode by cosine similarity, best first. Points of the other mode are
     * never returned: get-se and extract-se vectors of the same voice are not comparable. Points written before
     * modes existed (no mode stored) count as {@link SeMode#EXTRACT_SE}, which is how they were made.
     */
    List<Neighbour> nearest(float[] vector, int k, SeMode mode);

    /** Where this store writes, for results and logs (for example {@code qdrant:voice_embeddings}). */
    String collection();

    @Override
    void close();
}
