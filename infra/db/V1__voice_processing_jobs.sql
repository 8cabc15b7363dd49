-- The job table (docs/architecture.md §4). Rows are inserted PENDING by the submitter; the workers move them with
-- conditional single-statement updates (dev.timbre.job.PostgresJobStore).
CREATE TABLE voice_processing_jobs (
    id          uuid        PRIMARY KEY,
    voice_id    text        NOT NULL CHECK (char_length(voice_id) BETWEEN 1 AND 128),
    s3_key      text        NOT NULL CHECK (char_length(s3_key) BETWEEN 1 AND 1024),
    status      text        NOT NULL DEFAULT 'PENDING'
                            CHECK (status IN ('PENDING', 'PROCESSING', 'COMPLETED', 'FAILED')),
    attempts    integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    result      jsonb,
    error       text,
    is_deleted  boolean     NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    started_at  timestamptz,
    finished_at timestamptz
);

-- Operators list a voice's jobs and watch the unfinished ones.
CREATE INDEX voice_processing_jobs_voice_id_idx ON voice_processing_jobs (voice_id);
CREATE INDEX voice_processing_jobs_unfinished_idx ON voice_processing_jobs (status, updated_at)
    WHERE status IN ('PENDING', 'PROCESSING');
