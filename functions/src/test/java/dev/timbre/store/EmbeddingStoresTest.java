package dev.timbre.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.timbre.config.TimbreConfig;
import dev.timbre.job.TransientJobException;
import dev.timbre.testing.FakeQdrant;
import dev.timbre.testing.TestDatabase;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EmbeddingStoresTest {

    private static TestDatabase db;

    @TempDir
    Path converter;

    @BeforeAll
    static void createDatabase() {
        db = TestDatabase.create();
    }

    @AfterAll
    static void dropDatabase() {
        db.close();
    }

    private TimbreConfig config(Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(db.env());
        env.put("TIMBRE_S3_BUCKET", "uploads");
        env.put("TIMBRE_CONVERTER_DIR", converter.toString());
        env.put("AWS_REGION", "eu-west-1");
        env.putAll(extra);
        return TimbreConfig.fromEnv(env);
    }

    @Test
    void withoutAQdrantUrlEmbeddingsGoToPostgres() {
        try (EmbeddingStore store = EmbeddingStores.fromConfig(config(Map.of()), db.dataSource())) {
            assertInstanceOf(PostgresEmbeddingStore.class, store);
            assertEquals("postgres:voice_embeddings", store.collection());
            store.ensureReady();
        }
    }

    @Test
    void withAQdrantUrlEmbeddingsGoToQdrant() {
        try (FakeQdrant qdrant = FakeQdrant.startWithTcp();
             EmbeddingStore store = EmbeddingStores.fromConfig(config(Map.of(
                     "TIMBRE_QDRANT_URL", qdrant.url(), "TIMBRE_QDRANT_COLLECTION", "voices")), db.dataSource())) {
            assertInstanceOf(QdrantEmbeddingStore.class, store);
            assertEquals("qdrant:voices", store.collection());

            store.ensureReady();
            UUID jobId = UUID.randomUUID();
            store.upsert(EmbeddingStoreContractTest.embedding(jobId, "v", EmbeddingStoreContractTest.axis(0)));
            assertEquals(1, qdrant.pointCount("voices"));
        }
    }

    @Test
    void configuredQdrantThatIsDownFailsTransientlyAndNeverFallsBackToPostgres() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        try (EmbeddingStore store = EmbeddingStores.fromConfig(config(Map.of(
                "TIMBRE_QDRANT_URL", "http://127.0.0.1:" + closedPort)), db.dataSource())) {
            assertInstanceOf(QdrantEmbeddingStore.class, store);

            assertThrows(TransientJobException.class, () -> store.upsert(
                    EmbeddingStoreContractTest.embedding(UUID.randomUUID(), "v", EmbeddingStoreContractTest.axis(0))));
        }
        assertEquals(0, db.execute("DELETE FROM voice_embeddings"), "nothing was written to Postgres instead");
    }
}
