/**
 * Where embeddings live (docs/architecture.md §5): one {@link dev.timbre.store.EmbeddingStore} contract (point id =
 * job id, upserts applied before they return, cosine search) served by Qdrant over gRPC when a URL is configured and
 * by a Postgres table otherwise, with no silent fallback between them. Backend faults are transient job failures.
 * Depends on {@code config} and {@code job}.
 */
package dev.timbre.store;
