/**
 * The bridge's configuration: {@link dev.timbre.bridge.config.BridgeConfig} is the only class of the bridge that
 * reads environment variables; it validates them at start-up and fails with one line naming the variable
 * (docs/architecture.md §8). Depends on no other package of the bridge.
 */
package dev.timbre.bridge.config;
