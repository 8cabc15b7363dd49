/**
 * The configuration: {@link dev.timbre.config.TimbreConfig} is the only class in the job modules (core, lambda,
 * worker, cli) that reads environment variables; it validates all of them at start-up and stops with one line
 * naming the first bad one (docs/architecture.md §8). Also the reader of database credentials from Secrets Manager. Depends on
 * {@code audio} (for the audio limits).
 */
package dev.timbre.config;
