package dev.timbre.notify;

import java.time.Instant;
import java.util.UUID;

/**
 * One claimed outbox row: an event to publish.
 *
 * @param eventId    stable across retries and copies (name-based on job id and status)
 * @param jobId      the job it reports
 * @param detailType {@link JobEvents#COMPLETED} or {@link JobEvents#FAILED}
 * @param detailJson the {@code detail} object, JSON
 * @param createdAt  when the transition committed
 * @param attempts   publish attempts so far, this one included
 */
public record OutboxEvent(UUID eventId, UUID jobId, String detailType, String detailJson, Instant createdAt,
                          int attempts) {
}
