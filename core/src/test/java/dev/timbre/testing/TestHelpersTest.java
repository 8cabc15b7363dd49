package dev.timbre.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.qdrant.client.PointIdFactory;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.ValueFactory;
import io.qdrant.client.VectorsFactory;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.ScoredPoint;
import io.qdrant.client.grpc.Points.SearchPoints;
import io.qdrant.client.grpc.Points.UpdateStatus;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.WithPayloadSelector;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The test doubles other tests rely on behave as documented. */
class TestHelpersTest {

    @Nested
    class FakeQdrantBehaviour {

        private static PointStruct point(UUID id, float... vector) {
            return PointStruct.newBuilder().setId(PointIdFactory.id(id)).setVectors(VectorsFactory.vectors(vector))
                    .putAllPayload(Map.of("voice_id", ValueFactory.value("v-" + id))).build();
        }

        @Test
        void failNextCallsFailsExactlyThatManyCallsOfAnyKind() throws Exception {
            try (FakeQdrant qdrant = FakeQdrant.start(); QdrantClient client = qdrant.newClient()) {
                int before = qdrant.calls(); // the client's version HealthCheck at build counts too
                qdrant.failNextCalls(2, Status.UNAVAILABLE.withDescription("down"));

                for (int i = 0; i < 2; i++) {
                    ExecutionException e = assertThrows(ExecutionException.class,
                            () -> client.collectionExistsAsync("c").get(5, TimeUnit.SECONDS));
                    assertInstanceOf(StatusRuntimeException.class, e.getCause());
                    assertEquals(Status.Code.UNAVAILABLE, ((StatusRuntimeException) e.getCause()).getStatus().getCode());
                }
                assertFalse(client.collectionExistsAsync("c").get(5, TimeUnit.SECONDS));
                assertEquals(3, qdrant.calls() - before);
            }
        }

        @Test
        void upsertWithoutWaitIsOnlyAcknowledgedAndSearchRanksByCosine() throws Exception {
            try (FakeQdrant qdrant = FakeQdrant.start(); QdrantClient client = qdrant.newClient()) {
                client.createCollectionAsync("c", VectorParams.newBuilder().setSize(2)
                        .setDistance(Distance.Cosine).build()).get(5, TimeUnit.SECONDS);
                UUID near = UUID.randomUUID();
                UUID far = UUID.randomUUID();

                var result = client.upsertAsync(UpsertPoints.newBuilder().setCollectionName("c")
                        .addPoints(point(far, 0f, 1f)).addPoints(point(near, 1f, 0.1f)).build())
                        .get(5, TimeUnit.SECONDS);
                List<ScoredPoint> hits = client.searchAsync(SearchPoints.newBuilder().setCollectionName("c")
                        .addAllVector(List.of(1f, 0f)).setLimit(5)
                        .setWithPayload(WithPayloadSelector.newBuilder().setEnable(true)).build())
                        .get(5, TimeUnit.SECONDS);

                assertEquals(UpdateStatus.Acknowledged, result.getStatus());
                assertEquals(List.of(near.toString(), far.toString()),
                        hits.stream().map(h -> h.getId().getUuid()).toList());
                assertEquals("v-" + near, hits.get(0).getPayloadMap().get("voice_id").getStringValue());
                assertEquals(2, qdrant.pointCount("c"));
            }
        }

        @Test
        void creatingAnExistingCollectionIsAlreadyExists() throws Exception {
            try (FakeQdrant qdrant = FakeQdrant.start(); QdrantClient client = qdrant.newClient()) {
                VectorParams params = VectorParams.newBuilder().setSize(2).setDistance(Distance.Cosine).build();
                client.createCollectionAsync("c", params).get(5, TimeUnit.SECONDS);

                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> client.createCollectionAsync("c", params).get(5, TimeUnit.SECONDS));
                assertEquals(Status.Code.ALREADY_EXISTS,
                        ((StatusRuntimeException) e.getCause()).getStatus().getCode());
            }
        }
    }

    @Nested
    class TestDatabaseBehaviour {

        @Test
        void databaseIsMigratedAndDroppedAtClose() throws Exception {
            String name;
            try (TestDatabase db = TestDatabase.create()) {
                name = db.name();
                assertTrue(name.matches("timbre_test_[0-9a-f]{16}"), name);
                assertEquals(0, db.execute("DELETE FROM voice_processing_jobs"));
                assertTrue(exists(name));
            }
            assertFalse(exists(name), "dropped at close");
        }

        private boolean exists(String database) throws Exception {
            try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:5432/postgres", "postgres",
                    null);
                 PreparedStatement s = c.prepareStatement("SELECT 1 FROM pg_database WHERE datname = ?")) {
                s.setString(1, database);
                try (ResultSet rs = s.executeQuery()) {
                    return rs.next();
                }
            }
        }
    }
}
