package dev.timbre.job;

import dev.timbre.tone.SeMode;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;

/**
 * A job message as published to RabbitMQ and delivered by SQS (docs/architecture.md §2). Instances are valid by
 * construction: {@link JobMessageParser} is the only way in from untrusted bytes.
 *
 * @param jobId    primary key of the job row
 * @param voiceId  the voice the embedding belongs to, 1..128 chars
 * @param s3Key    object key of the uploaded audio, 1..1024 chars
 * @param s3Bucket bucket override; must be in the allowed list
 * @param metadata free-form; informational only, never used in a path
 * @param seMode   {@code se_mode}: how to embed this job; empty = the deployment's {@code TIMBRE_SE_MODE}
 */
public record JobMessage(UUID jobId, String voiceId, String s3Key, Optional<String> s3Bucket,
                         Map<String, Object> metadata, Optional<SeMode> seMode) {

    public JobMessage {
        Objects.requireNonNull(seMode, "seMode");
    }

    /** A message that leaves the mode to the deployment. */
    public JobMessage(UUID jobId, String voiceId, String s3Key, Optional<String> s3Bucket,
                      Map<String, Object> metadata) {
        this(jobId, voiceId, s3Key, s3Bucket, metadata, Optional.empty());
    }

    /** The mode this job is embedded in: its own {@code se_mode}, else {@code deploymentDefault}. */
    public SeMode modeOr(SeMode deploymentDefault) {
        return seMode.orElse(deploymentDefault);
    }
}
