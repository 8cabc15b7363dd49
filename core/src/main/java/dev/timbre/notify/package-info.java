/**
 * Notify (docs/architecture.md §13): one completion event per job that reaches COMPLETED or FAILED, recorded in the job's
 * own transaction ({@link dev.timbre.notify.JobEvents}, the {@code job_events} outbox), published after commit
 * ({@link dev.timbre.notify.OutboxPublisher}) to an EventBridge bus or an SQS queue ({@link dev.timbre.notify.EventSinks}),
 * and swept again until published: at-least-once, with an event id stable across retries.
 */
package dev.timbre.notify;
