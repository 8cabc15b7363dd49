/**
 * What operators see of the bridge: its Prometheus metrics and the HTTP server for {@code /healthz} (ready only
 * while consuming and while SQS answers) and {@code /metrics}. Depends on no other package of the bridge.
 */
package dev.timbre.bridge.ops;
