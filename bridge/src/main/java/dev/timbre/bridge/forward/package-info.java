/**
 * The forwarding threads of the bridge (docs/architecture.md §3): deliveries waiting to be settled, the batch
 * rules (10 entries, 1 MiB, linger), and the pipeline with its window of in-flight batches, which is the
 * back-pressure on the broker. Uses {@code sqs} to map and send; {@code sqs} in turn builds this package's records.
 */
package dev.timbre.bridge.forward;
