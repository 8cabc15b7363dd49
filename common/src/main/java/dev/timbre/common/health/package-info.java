/** The {@code /healthz} HTTP server of every service: JSON {@code {"status":"ok"|"unhealthy", ...}}, 200 or 503. */
package dev.timbre.common.health;
