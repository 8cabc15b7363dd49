/**
 * The contracts every other part relies on: the job message and its parser, the only way from untrusted bytes to a
 * {@link dev.timbre.job.JobMessage} (docs/architecture.md §2); the job table and its conditional transitions
 * ({@link dev.timbre.job.PostgresJobStore}, §4); the exception types that name the failure classes (poison,
 * permanent, transient; §6); and {@link dev.timbre.job.SqlErrors}, the one place that decides which database errors
 * may pass on retry. Depends on no other Timbre package.
 */
package dev.timbre.job;
