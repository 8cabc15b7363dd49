-- The Postgres embedding store (docs/architecture.md §5): the same contract as the Qdrant collection, for local runs and
-- small deployments. One row per point; point id = job id, so a redelivered job overwrites its own row.
-- No foreign key to voice_processing_jobs: like a Qdrant point, an embedding outlives its job row.
CREATE TABLE voice_embeddings (
    collection   text             NOT NULL,
    point_id     uuid             NOT NULL,
    voice_id     text             NOT NULL,
    job_id       uuid             NOT NULL,
    model        text             NOT NULL,
    processed_at timestamptz      NOT NULL,
    duration_s   double precision NOT NULL,
    vector       real[]           NOT NULL CHECK (cardinality(vector) > 0),
    -- ‖vector‖, stored so that cosine similarity in SQL costs one dot product per row
    norm         double precision NOT NULL,
    PRIMARY KEY (collection, point_id)
);

CREATE INDEX voice_embeddings_voice_id_idx ON voice_embeddings (collection, voice_id);
