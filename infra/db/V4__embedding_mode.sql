-- Embedding modes (docs/architecture.md §4, §5, §10): how each embedding was made, get-se (OpenVoice's get_se with
-- VAD) or extract-se (extract_se of the whole clip). Vectors of different modes are not comparable, so the mode is
-- stored with every embedding and similarity search filters on it.
--
-- Every embedding written before this migration was a whole-clip extract_se, so existing rows get 'extract-se':
-- that is what they are, and they stay searchable among extract-se embeddings.

-- voice_processing_jobs.se_mode: the mode of the job's embedding, set when the job completes (PostgresJobStore
-- copies result->>'se_mode'). NULL while the job has not completed: the mode is decided by the worker (the
-- message's se_mode, else TIMBRE_SE_MODE), not at submission. Completed rows from before are backfilled.
ALTER TABLE voice_processing_jobs
    ADD COLUMN se_mode text CHECK (se_mode IN ('get-se', 'extract-se')),
    -- get-se only: the speech the VAD kept, {"segments_s": [[start, end], ...], "kept_s": ..., "split_s": [...]}
    ADD COLUMN speech  jsonb;

UPDATE voice_processing_jobs SET se_mode = 'extract-se' WHERE status = 'COMPLETED';

-- voice_embeddings.se_mode: the Postgres store's payload field; the default fills the existing rows truthfully
-- (the store always writes it).
ALTER TABLE voice_embeddings
    ADD COLUMN se_mode text NOT NULL DEFAULT 'extract-se' CHECK (se_mode IN ('get-se', 'extract-se'));

DROP INDEX voice_embeddings_voice_id_idx;
CREATE INDEX voice_embeddings_mode_voice_id_idx ON voice_embeddings (collection, se_mode, voice_id);
