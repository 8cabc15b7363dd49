/**
 * What operators see of the bridge: its Prometheus metrics, served on {@code /metrics} next to {@code /healthz}
 * (healthy only while consuming and while SQS answers) by the HTTP server both services share
 * ({@code dev.timbre.common.health.HealthServer}, wired in {@code Bridge}). Depends on no other package of the bridge.
 */
package dev.timbre.bridge.ops;
