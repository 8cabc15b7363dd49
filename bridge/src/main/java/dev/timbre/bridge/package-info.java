/**
 * The RabbitMQ to SQS bridge service (docs/architecture.md §3): {@link dev.timbre.bridge.BridgeMain} reads the
 * configuration and handles SIGTERM; {@link dev.timbre.bridge.Bridge} wires the parts and owns every long-lived
 * resource, closing them in the order that loses nothing. Every delivery is acknowledged only after SQS accepted it
 * or it was dead-lettered.
 */
package dev.timbre.bridge;
