package dev.timbre.job;

import java.time.OffsetDateTime;
import java.util.UUID;

/** One row of {@code voice_processing_jobs}, as read back. */
public record JobRecord(UUID id, String voiceId, String s3Key, JobStatus status, int attempts, String resultJson,
                        String error, boolean deleted, OffsetDateTime createdAt, OffsetDateTime updatedAt,
                        OffsetDateTime startedAt, OffsetDateTime finishedAt) {
}
