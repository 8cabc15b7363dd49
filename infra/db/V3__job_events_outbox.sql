-- The transactional outbox of completion events (docs/architecture.md §13). A row is inserted by the same statement
-- that moves a job to COMPLETED or FAILED (dev.timbre.job.PostgresJobStore), so an event exists exactly for the
-- transitions that committed. Workers publish unpublished rows after commit and sweep what failed to publish,
-- claiming rows with a lease (leased_until) under FOR UPDATE SKIP LOCKED so that many workers never send one row at
-- once; a crashed worker's lease simply expires.
CREATE TABLE job_events (
    -- name-based UUID of (job id, final status): the same on every retry and copy, so consumers can de-duplicate
    event_id           uuid        PRIMARY KEY,
    job_id             uuid        NOT NULL,
    detail_type        text        NOT NULL
                                   CHECK (detail_type IN ('Voice Embedding Completed', 'Voice Embedding Failed')),
    detail             jsonb       NOT NULL,
    created_at         timestamptz NOT NULL DEFAULT now(),
    publish_attempts   integer     NOT NULL DEFAULT 0 CHECK (publish_attempts >= 0),
    leased_until       timestamptz,
    published_at       timestamptz,
    last_error         text
);

-- The sweep reads the unpublished rows, oldest first; published rows are kept (for replay) and purged later.
CREATE INDEX job_events_unpublished_idx ON job_events (created_at) WHERE published_at IS NULL;
CREATE INDEX job_events_job_id_idx ON job_events (job_id);
CREATE INDEX job_events_published_at_idx ON job_events (published_at) WHERE published_at IS NOT NULL;
