package dev.timbre.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.timbre.job.TransientJobException;
import dev.timbre.testing.TestDatabase;
import java.net.ServerSocket;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

/** The contract on the Postgres table, plus what only this implementation does. */
class PostgresEmbeddingStoreTest extends EmbeddingStoreContractTest {

    private static TestDatabase db;

    @BeforeAll
    static void createDatabase() {
        db = TestDatabase.create();
    }

    @AfterAll
    static void dropDatabase() {
        db.close();
    }

    @Override
    protected EmbeddingStore openStore(String collection, int dimension) {
        return new PostgresEmbeddingStore(db.dataSource(), collection, dimension);
    }

    @Test
    void unmigratedDatabaseIsReportedNotPatched() {
        try (TestDatabase empty = TestDatabase.createEmpty()) {
            EmbeddingStore unmigrated = new PostgresEmbeddingStore(empty.dataSource(), "c", DIMENSION);

            IllegalStateException e = assertThrows(IllegalStateException.class, unmigrated::ensureReady);
            assertEquals("table voice_embeddings is missing: run ./timbre migrate", e.getMessage());
        }
    }

    @Test
    void unreachableDatabaseIsTransient() throws Exception {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        PGSimpleDataSource nowhere = new PGSimpleDataSource();
        nowhere.setURL("jdbc:postgresql://127.0.0.1:" + closedPort + "/none");
        nowhere.setUser("postgres");
        EmbeddingStore unreachable = new PostgresEmbeddingStore(nowhere, "c", DIMENSION);

        assertThrows(TransientJobException.class,
                () -> unreachable.upsert(embedding(UUID.randomUUID(), "v", axis(0))));
    }

    @Test
    void nonFiniteVectorIsRejected() {
        float[] vector = axis(0);
        vector[3] = Float.NaN;
        assertThrows(IllegalArgumentException.class, () -> store.upsert(embedding(UUID.randomUUID(), "v", vector)));
    }
}
