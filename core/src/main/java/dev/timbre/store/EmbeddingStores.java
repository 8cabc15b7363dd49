package dev.timbre.store;

import dev.timbre.config.TimbreConfig;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Chooses the embedding store for a configuration (docs/architecture.md §5). */
public final class EmbeddingStores {

    /** OpenVoice's tone-color embedding size ({@code model.gin_channels}). */
    public static final int OPENVOICE_DIMENSION = 256;

    private static final Logger log = LoggerFactory.getLogger(EmbeddingStores.class);

    private EmbeddingStores() {
    }

    /** As {@link #fromConfig(TimbreConfig, DataSource, int)} for 256-dimensional OpenVoice embeddings. */
    public static EmbeddingStore fromConfig(TimbreConfig config, DataSource dataSource) {
        return fromConfig(config, dataSource, OPENVOICE_DIMENSION);
    }

    /**
     * Qdrant if and only if {@code TIMBRE_QDRANT_URL} is set, else the Postgres table on {@code dataSource}.
     * There is no fallback: a configured Qdrant that is down makes the store's calls fail (transiently), it never
     * sends embeddings elsewhere. The caller closes the store; {@link EmbeddingStore#ensureReady()} is not called
     * here, so that building a Lambda container makes no network call it does not need.
     */
    public static EmbeddingStore fromConfig(TimbreConfig config, DataSource dataSource, int dimension) {
        if (config.qdrantUrl().isPresent()) {
            log.info("embedding store: qdrant url={} collection={} apiKey={}", config.qdrantUrl().get(),
                    config.qdrantCollection(), config.qdrantApiKey().isPresent() ? "****" : "<none>");
            return QdrantEmbeddingStore.connect(config.qdrantUrl().get(), config.qdrantApiKey(),
                    config.qdrantCollection(), dimension, QdrantEmbeddingStore.DEFAULT_CALL_TIMEOUT);
        }
        log.info("embedding store: postgres table voice_embeddings collection={}", config.qdrantCollection());
        return new PostgresEmbeddingStore(dataSource, config.qdrantCollection(), dimension);
    }
}
