/**
 * The RabbitMQ side of the bridge: one auto-recovering connection and consuming channel with manual acks and a
 * prefetch, one acking thread per channel, the queue topology declared when missing, and the confirmed publisher of
 * dead letters with their reason headers (docs/architecture.md §3). Depends on {@code config}, {@code forward},
 * {@code ops} and {@code sqs} (for the backoff).
 */
package dev.timbre.bridge.amqp;
