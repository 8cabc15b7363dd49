/**
 * The SQS side of the bridge (docs/architecture.md §3): mapping a delivery to a batch entry (attributes, FIFO group
 * and deduplication ids, the characters and sizes SQS accepts), sending a batch until every entry is settled, the
 * one classification of SQS failures, backoff with full jitter, and the reachability probe behind {@code /healthz}.
 */
package dev.timbre.bridge.sqs;
