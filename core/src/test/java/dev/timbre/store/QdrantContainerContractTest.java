package dev.timbre.store;

import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import org.testcontainers.junit.jupiter.Container;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.qdrant.QdrantContainer;

/**
 * The same contract against a real Qdrant server in Docker, where a Docker engine exists; skipped (not failed)
 * elsewhere. Confirms that {@link dev.timbre.testing.FakeQdrant} and the real server agree.
 */
@Testcontainers(disabledWithoutDocker = true)
class QdrantContainerContractTest extends EmbeddingStoreContractTest {

    /** Pinned to the server line the client 1.18.3 is built for. */
    static final String QDRANT_IMAGE = "qdrant/qdrant:v1.18.0";

    @Container
    static final QdrantContainer QDRANT = new QdrantContainer(QDRANT_IMAGE);

    @Override
    protected EmbeddingStore openStore(String collection, int dimension) {
        return QdrantEmbeddingStore.connect(URI.create("http://" + QDRANT.getHost() + ":" + QDRANT.getGrpcPort()),
                Optional.empty(), collection, dimension, Duration.ofSeconds(10));
    }
}
