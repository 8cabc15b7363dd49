package dev.timbre.store;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.job.TransientJobException;
import dev.timbre.testing.FakeQdrant;
import io.grpc.Status;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Points.UpdateStatus;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** The contract through the real Qdrant client against {@link FakeQdrant}, plus Qdrant-only behaviour. */
class QdrantEmbeddingStoreTest extends EmbeddingStoreContractTest {

    private static FakeQdrant qdrant;

    @BeforeAll
    static void startQdrant() {
        qdrant = FakeQdrant.startWithTcp();
    }

    @AfterAll
    static void stopQdrant() {
        qdrant.close();
    }

    @AfterEach
    void clearFaults() {
        qdrant.clearFaults();
    }

    @Override
    protected EmbeddingStore openStore(String collection, int dimension) {
        return new QdrantEmbeddingStore(qdrant.newClient(), collection, dimension, Duration.ofSeconds(2));
    }

    private static List<UUID> randomIds(int n) {
        List<UUID> ids = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            ids.add(UUID.randomUUID());
        }
        return ids;
    }

    /**
     * Upserts one point per id, each from its own thread, all released at once, as a batch's worker threads
     * reaching the store step together would.
     *
     * @return what each thread threw, by its point's id (empty when every upsert returned)
     */
    private static Map<UUID, Throwable> upsertTogether(EmbeddingStore target, List<UUID> ids)
            throws InterruptedException {
        Map<UUID, Throwable> failures = new ConcurrentHashMap<>();
        CountDownLatch go = new CountDownLatch(1);
        List<Thread> workers = new ArrayList<>();
        for (UUID id : ids) {
            workers.add(Thread.ofPlatform().start(() -> {
                try {
                    go.await();
                    target.upsert(embedding(id, "v", axis(0)));
                } catch (InterruptedException | RuntimeException e) {
                    failures.put(id, e);
                }
            }));
        }
        go.countDown();
        for (Thread worker : workers) {
            worker.join(20_000);
        }
        return failures;
    }

    private String collectionName() {
        return store.collection().substring("qdrant:".length());
    }

    @Nested
    class Layout {

        @Test
        void collectionIsCreatedWithCosineDistanceAndVoiceIdAndSeModeKeywordIndexes() {
            FakeQdrant.CollectionState state = qdrant.collection(collectionName()).orElseThrow();

            assertEquals(DIMENSION, state.vectorSize());
            assertEquals(Distance.Cosine, state.distance());
            assertEquals(Map.of("voice_id", PayloadSchemaType.Keyword, "se_mode", PayloadSchemaType.Keyword),
                    state.payloadIndexes());
        }

        @Test
        void pointIdIsTheJobIdAndPayloadCarriesTheDesignedFields() {
            UUID jobId = UUID.randomUUID();

            store.upsert(embedding(jobId, "voice-7", axis(4)));

            FakeQdrant.StoredPoint point = qdrant.point(collectionName(), jobId).orElseThrow();
            assertEquals(Optional.of("voice-7"), point.string("voice_id"));
            assertEquals(Optional.of(jobId.toString()), point.string("job_id"));
            assertEquals(Optional.of("openvoice-v2-ref_enc"), point.string("model"));
            assertEquals(Optional.of("2026-11-29T02:00:00.123456Z"), point.string("processed_at"));
            assertEquals(Optional.of(10.25), point.number("duration_s"));
            assertEquals(Optional.of("extract-se"), point.string("se_mode"));
            assertEquals(6, point.payload().size());
            assertArrayEquals(axis(4), point.vector());
        }

        @Test
        void aPointWrittenBeforeModesExistedIsAnExtractSePointAndOnlyExtractSeSearchesFindIt() throws Exception {
            UUID old = UUID.randomUUID();
            try (var client = qdrant.newClient()) {
                // the payload Timbre wrote before se_mode existed
                client.upsertAsync(collectionName(), List.of(io.qdrant.client.grpc.Points.PointStruct.newBuilder()
                        .setId(io.qdrant.client.PointIdFactory.id(old))
                        .setVectors(io.qdrant.client.VectorsFactory.vectors(axis(3)))
                        .putAllPayload(Map.of("voice_id", io.qdrant.client.ValueFactory.value("old-voice"),
                                "job_id", io.qdrant.client.ValueFactory.value(old.toString()),
                                "model", io.qdrant.client.ValueFactory.value("m"),
                                "processed_at", io.qdrant.client.ValueFactory.value("2026-01-01T00:00:00Z"),
                                "duration_s", io.qdrant.client.ValueFactory.value(3.0)))
                        .build())).get(5, TimeUnit.SECONDS);
            }

            assertEquals(dev.timbre.tone.SeMode.EXTRACT_SE, store.get(old).orElseThrow().seMode());
            assertEquals(List.of(old), store.nearest(axis(3), 5, dev.timbre.tone.SeMode.EXTRACT_SE).stream()
                    .map(Neighbour::jobId).toList());
            assertEquals(List.of(), store.nearest(axis(3), 5, dev.timbre.tone.SeMode.GET_SE));
        }

        @Test
        void existingCollectionOfAnotherSizeIsRefused() throws Exception {
            String name = "wrong_size_" + UUID.randomUUID().toString().replace("-", "");
            try (var client = qdrant.newClient()) {
                client.createCollectionAsync(name, VectorParams.newBuilder().setSize(128)
                        .setDistance(Distance.Cosine).build()).get(5, TimeUnit.SECONDS);
            }
            try (EmbeddingStore wrong = openStore(name, DIMENSION)) {
                IllegalStateException e = assertThrows(IllegalStateException.class, wrong::ensureReady);
                assertTrue(e.getMessage().contains("holds 128-dimensional Cosine vectors; this store needs 256"),
                        e.getMessage());
            }
        }

        @Test
        void existingCollectionWithoutTheIndexGetsIt() throws Exception {
            String name = "no_index_" + UUID.randomUUID().toString().replace("-", "");
            try (var client = qdrant.newClient()) {
                client.createCollectionAsync(name, VectorParams.newBuilder().setSize(DIMENSION)
                        .setDistance(Distance.Cosine).build()).get(5, TimeUnit.SECONDS);
            }
            try (EmbeddingStore existing = openStore(name, DIMENSION)) {
                existing.ensureReady();
            }
            assertEquals(Map.of("voice_id", PayloadSchemaType.Keyword, "se_mode", PayloadSchemaType.Keyword),
                    qdrant.collection(name).orElseThrow().payloadIndexes());
        }
    }

    @Nested
    class Faults {

        @ParameterizedTest
        @EnumSource(value = Status.Code.class,
                names = {"UNAVAILABLE", "DEADLINE_EXCEEDED", "RESOURCE_EXHAUSTED", "ABORTED", "INTERNAL"})
        void retriableStatusesAreTransient(Status.Code code) {
            UUID jobId = UUID.randomUUID();
            qdrant.failNextUpserts(1, Status.fromCode(code).withDescription("injected"));

            TransientJobException e = assertThrows(TransientJobException.class,
                    () -> store.upsert(embedding(jobId, "v", axis(0))));

            assertTrue(e.getMessage().contains("(" + code + ": injected)"), e.getMessage());
            assertTrue(qdrant.point(collectionName(), jobId).isEmpty());
            // and the next attempt goes through
            store.upsert(embedding(jobId, "v", axis(0)));
            assertTrue(qdrant.point(collectionName(), jobId).isPresent());
        }

        @Test
        void upsertFailingForOnePointLeavesOthersAlone() {
            UUID doomed = UUID.randomUUID();
            UUID fine = UUID.randomUUID();
            qdrant.failUpsertsFor(doomed, Status.UNAVAILABLE);

            assertThrows(TransientJobException.class, () -> store.upsert(embedding(doomed, "v", axis(0))));
            store.upsert(embedding(fine, "v", axis(0)));

            assertTrue(qdrant.point(collectionName(), fine).isPresent());
            assertTrue(qdrant.point(collectionName(), doomed).isEmpty());
        }

        @Test
        void aRefusedPointInAGroupFailsOnlyItsOwnJob() throws Exception {
            // given: a slow server, so that the jobs after the first arrive while its write is in flight
            qdrant.delayUpserts(Duration.ofMillis(300));
            UUID doomed = UUID.randomUUID();
            qdrant.failUpsertsFor(doomed, Status.UNAVAILABLE);
            List<UUID> fine = randomIds(7);
            List<UUID> all = new ArrayList<>(fine);
            all.add(3, doomed);

            // when: eight worker threads store their job's point together
            Map<UUID, Throwable> failures = upsertTogether(store, all);

            // then: each job has its own outcome (the group holding the refused point was written again point by
            // point)
            assertEquals(Set.of(doomed), failures.keySet(), failures.toString());
            assertInstanceOf(TransientJobException.class, failures.get(doomed));
            for (UUID id : fine) {
                assertTrue(qdrant.point(collectionName(), id).isPresent(), id + " stored");
            }
            assertTrue(qdrant.point(collectionName(), doomed).isEmpty());
        }

        @Test
        void pointsWrittenTogetherWithoutFaultsTakeFewerCallsThanPoints() throws Exception {
            qdrant.delayUpserts(Duration.ofMillis(300));
            List<UUID> ids = randomIds(8);
            int callsBefore = qdrant.upsertCalls();

            assertEquals(Map.of(), upsertTogether(store, ids));

            assertEquals(Set.copyOf(ids), ids.stream().filter(id -> qdrant.point(collectionName(), id).isPresent())
                    .collect(Collectors.toSet()));
            int calls = qdrant.upsertCalls() - callsBefore;
            // the first alone, then the seven that arrived during its 300 ms in one or two more
            assertTrue(calls <= 3, "upsert calls for 8 points written together: " + calls);
        }

        @Test
        void aGroupedWriteThatTimesOutFailsEveryPointWithoutWritingThemAgain() throws Exception {
            qdrant.delayUpserts(Duration.ofSeconds(2));
            try (EmbeddingStore impatient = new QdrantEmbeddingStore(qdrant.newClient(), collectionName(),
                    DIMENSION, Duration.ofMillis(300))) {
                int callsBefore = qdrant.upsertCalls();

                Map<UUID, Throwable> failures = upsertTogether(impatient, randomIds(4));

                assertEquals(4, failures.size(), "every job failed: " + failures);
                failures.values().forEach(e -> {
                    assertInstanceOf(TransientJobException.class, e);
                    assertTrue(e.getMessage().contains("DEADLINE_EXCEEDED"), e.getMessage());
                });
                // the first point alone, the three that waited for it together: no point is retried alone
                assertTrue(qdrant.upsertCalls() - callsBefore <= 2, "upsert calls: "
                        + (qdrant.upsertCalls() - callsBefore));
            }
        }

        @Test
        void rejectedRequestIsAMisconfigurationNotATransientFault() {
            qdrant.failNextUpserts(1, Status.INVALID_ARGUMENT.withDescription("Wrong input"));

            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> store.upsert(embedding(UUID.randomUUID(), "v", axis(0))));
            assertTrue(e.getMessage().contains("INVALID_ARGUMENT: Wrong input"), e.getMessage());
        }

        @Test
        void writeNotConfirmedAsCompletedIsAnError() {
            qdrant.answerUpsertsWith(UpdateStatus.WaitTimeout);

            TransientJobException e = assertThrows(TransientJobException.class,
                    () -> store.upsert(embedding(UUID.randomUUID(), "v", axis(0))));
            assertTrue(e.getMessage().endsWith("status WaitTimeout"), e.getMessage());
        }

        @Test
        void slowServerHitsTheCallDeadline() {
            qdrant.delayUpserts(Duration.ofSeconds(10));
            try (EmbeddingStore impatient = new QdrantEmbeddingStore(qdrant.newClient(), collectionName(),
                    DIMENSION, Duration.ofMillis(300))) {
                long started = System.nanoTime();

                TransientJobException e = assertThrows(TransientJobException.class,
                        () -> impatient.upsert(embedding(UUID.randomUUID(), "v", axis(0))));

                long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                assertTrue(e.getMessage().contains("DEADLINE_EXCEEDED"), e.getMessage());
                assertTrue(elapsedMs < 5_000, "gave up after " + elapsedMs + " ms, not after the 10 s delay");
            }
        }

        @Test
        void unreachableServerIsTransientAndDoesNotFallBack() throws Exception {
            int closedPort;
            try (java.net.ServerSocket socket = new java.net.ServerSocket(0)) {
                closedPort = socket.getLocalPort();
            }
            try (EmbeddingStore nowhere = QdrantEmbeddingStore.connect(URI.create("http://127.0.0.1:" + closedPort),
                    Optional.empty(), "c", DIMENSION, Duration.ofSeconds(2))) {
                TransientJobException e = assertThrows(TransientJobException.class, nowhere::ensureReady);
                assertTrue(e.getMessage().contains("UNAVAILABLE"), e.getMessage());
            }
        }
    }

    @Nested
    class OverTcp {

        @Test
        void urlAndApiKeyReachTheServer() {
            qdrant.requireApiKey("secret-key");
            UUID jobId = UUID.randomUUID();
            String name = "tcp_" + UUID.randomUUID().toString().replace("-", "");

            try (EmbeddingStore remote = QdrantEmbeddingStore.connect(URI.create(qdrant.url()),
                    Optional.of("secret-key"), name, DIMENSION, Duration.ofSeconds(5))) {
                remote.ensureReady();
                remote.upsert(embedding(jobId, "voice-tcp", axis(9)));
                assertEquals("voice-tcp", remote.get(jobId).orElseThrow().voiceId());
            }
            assertTrue(qdrant.apiKeysSeen().contains("secret-key"));
        }

        @Test
        void httpsUrlSpeaksTlsSoAPlaintextServerCannotAnswer() {
            // The fake serves plaintext gRPC: over https the client's TLS handshake must fail, proving TLS is on
            try (EmbeddingStore tls = QdrantEmbeddingStore.connect(URI.create("https://127.0.0.1:" + qdrant.tcpPort()),
                    Optional.empty(), "c", DIMENSION, Duration.ofSeconds(5))) {
                TransientJobException e = assertThrows(TransientJobException.class, tls::ensureReady);
                assertTrue(e.getMessage().contains("UNAVAILABLE"), e.getMessage());
            }
        }

        @Test
        void missingApiKeyIsRefused() {
            qdrant.requireApiKey("secret-key");

            try (EmbeddingStore anonymous = QdrantEmbeddingStore.connect(URI.create(qdrant.url()),
                    Optional.empty(), "c", DIMENSION, Duration.ofSeconds(5))) {
                IllegalStateException e = assertThrows(IllegalStateException.class, anonymous::ensureReady);
                assertTrue(e.getMessage().contains("UNAUTHENTICATED"), e.getMessage());
            }
        }
    }
}
