package dev.timbre.store;

import dev.timbre.job.JobQueries;
import dev.timbre.tone.SeMode;
import dev.timbre.tone.ToneColorExtractor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;

/**
 * The voices nearest to a voice ({@code ./timbre similar}). The voice's embedding is the arithmetic mean of its
 * completed jobs' embeddings (as OpenVoice averages files); neighbours come from the embedding store and are grouped
 * by voice, best score first.
 *
 * <p>Only points of jobs that are COMPLETED and not deleted are ever returned: the store can hold a point whose job
 * is not (a job deleted after it completed, or a point whose removal has not happened yet), so every hit is checked
 * against the job table. Thread-safe if its collaborators are.
 */
public final class SimilarVoices {

    /** Most hits asked of the store in one search. */
    static final int MAX_HITS = 1000;
    /** Embeddings of the voice averaged into the query. */
    static final int MAX_OWN_JOBS = 100;

    private final JobQueries jobs;
    private final EmbeddingStore store;

    public SimilarVoices(JobQueries jobs, EmbeddingStore store) {
        this.jobs = jobs;
        this.store = store;
    }

    /**
     * @param mode only embeddings of this mode are averaged into the query and searched: get-se and extract-se
     *             vectors are not comparable
     * @return up to {@code limit} voices, best first, one hit each; empty when the voice has no completed embedding
     *         in {@code mode}
     */
    public Optional<List<Neighbour>> nearest(String voiceId, int limit, boolean includeSelf, SeMode mode) {
        List<float[]> own = new ArrayList<>();
        for (UUID job : jobs.completedJobsOfVoice(voiceId, MAX_OWN_JOBS)) {
            store.get(job).filter(e -> e.seMode() == mode).map(StoredEmbedding::vector).ifPresent(own::add);
        }
        if (own.isEmpty()) {
            return Optional.empty();
        }
        float[] query = ToneColorExtractor.mean(own);
        int k = Math.min(MAX_HITS, limit * 10 + own.size());
        while (true) {
            List<Neighbour> hits = store.nearest(query, k, mode);
            Set<UUID> live = jobs.completedAndNotDeleted(hits.stream().map(Neighbour::jobId).toList());
            Map<String, Neighbour> bestPerVoice = new LinkedHashMap<>();
            for (Neighbour n : hits) {
                if (!live.contains(n.jobId()) || (!includeSelf && n.voiceId().equals(voiceId))) {
                    continue;
                }
                bestPerVoice.putIfAbsent(n.voiceId(), n);
            }
            // Hits dropped as not live may hide voices further down: look deeper while the store had more
            if (bestPerVoice.size() >= limit || hits.size() < k || k == MAX_HITS) {
                return Optional.of(bestPerVoice.values().stream().limit(limit).toList());
            }
            k = Math.min(MAX_HITS, k * 4);
        }
    }
}
