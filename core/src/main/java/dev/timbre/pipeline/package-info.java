/**
 * The job pipeline shared by every host (docs/architecture.md §1, §6, §7): {@link dev.timbre.pipeline.WorkerRuntime}
 * builds once what a host holds for its life; {@link dev.timbre.pipeline.BatchProcessor} runs a batch on the
 * {@link dev.timbre.pipeline.WorkerPool} under a deadline and moves poison messages to the DLQ;
 * {@link dev.timbre.pipeline.JobProcessor} runs one job and classifies its failure into a
 * {@link dev.timbre.pipeline.Disposition}, which alone decides whether the message is acknowledged. Also the EMF
 * metrics and the log-format rule. Knows no host: depends on {@code audio}, {@code config}, {@code db}, {@code job},
 * {@code source}, {@code store} and {@code tone}.
 */
package dev.timbre.pipeline;
