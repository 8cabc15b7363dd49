/**
 * The Lambda host (docs/architecture.md §9): {@link dev.timbre.lambda.VoiceEmbeddingHandler} maps an SQS event to
 * queue messages, runs them through the container's shared batch processor with a deadline of the remaining time
 * minus a margin, and returns the records to redeliver as a partial batch response. Depends on {@code pipeline}.
 */
package dev.timbre.lambda;
