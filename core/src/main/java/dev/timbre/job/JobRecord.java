package dev.timbre.job;

import dev.timbre.tone.SeMode;
import java.time.OffsetDateTime;
import java.util.Optional;
import java.util.UUID;

/**
 * One row of {@code voice_processing_jobs}, as read back.
 *
 * @param seMode     the mode of the job's embedding; set when the job completes (V4), empty before
 * @param speechJson get-se only: the speech summary as JSON ({@code segments_s}, {@code kept_s}, {@code split_s})
 */
public record JobRecord(UUID id, String voiceId, String s3Key, JobStatus status, int attempts, String resultJson,
                        String error, boolean deleted, OffsetDateTime createdAt, OffsetDateTime updatedAt,
                        OffsetDateTime startedAt, OffsetDateTime finishedAt, Optional<SeMode> seMode,
                        String speechJson) {
}
