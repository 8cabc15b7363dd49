package dev.timbre.store;

import java.util.UUID;

/** A search hit: the point's job and voice and its cosine similarity to the query. */
public record Neighbour(UUID jobId, String voiceId, double score) {
}
