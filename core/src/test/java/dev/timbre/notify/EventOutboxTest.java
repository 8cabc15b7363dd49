package dev.timbre.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.job.JobStatus;
import dev.timbre.job.JobStore.PickUp;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The outbox on a real Postgres (docs/architecture.md §13): the event commits exactly with the job's transition, and
 * the lease keeps claimers apart.
 */
class EventOutboxTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RESULT = "{\"model\":\"m-1\",\"embedding\":{\"collection\":\"c\",\"point_id\":\"p\","
            + "\"dim\":256},\"audio\":{\"duration_s\":3.5,\"sample_rate_in\":22050}}";

    private TestDatabase db;
    private PostgresJobStore jobs;

    @BeforeEach
    void createDatabase() {
        db = TestDatabase.create();
        jobs = new PostgresJobStore(db.dataSource());
    }

    @AfterEach
    void dropDatabase() {
        db.close();
    }

    private UUID processingJob() {
        UUID id = UUID.randomUUID();
        jobs.create(id, "voice-" + id.toString().substring(0, 4), "uploads/" + id + ".wav");
        assertEquals(PickUp.STARTED, jobs.pickUp(id));
        return id;
    }

    private List<Map<String, Object>> eventsOf(UUID jobId) throws Exception {
        try (Connection c = db.dataSource().getConnection(); PreparedStatement read = c.prepareStatement(
                "SELECT event_id, detail_type, detail::text AS detail, published_at FROM job_events WHERE job_id = ?")) {
            read.setObject(1, jobId);
            List<Map<String, Object>> rows = new ArrayList<>();
            try (ResultSet rs = read.executeQuery()) {
                while (rs.next()) {
                    rows.add(Map.of("event_id", rs.getObject("event_id", UUID.class),
                            "detail_type", rs.getString("detail_type"), "detail", rs.getString("detail")));
                }
            }
            return rows;
        }
    }

    @Test
    void completingRecordsOneEventWithTheJobsFacts() throws Exception {
        UUID id = processingJob();
        assertTrue(jobs.complete(id, RESULT));

        List<Map<String, Object>> events = eventsOf(id);
        assertEquals(1, events.size());
        assertEquals(JobEvents.eventId(id, "COMPLETED"), events.get(0).get("event_id"));
        assertEquals(JobEvents.COMPLETED, events.get(0).get("detail_type"));
        JsonNode detail = JSON.readTree((String) events.get(0).get("detail"));
        assertEquals(id.toString(), detail.path("job_id").asText());
        assertEquals(JobEvents.eventId(id, "COMPLETED").toString(), detail.path("event_id").asText());
        assertEquals("COMPLETED", detail.path("status").asText());
        assertEquals(1, detail.path("attempts").asInt());
        assertTrue(detail.path("error").isNull());
        assertEquals(3.5, detail.path("duration_s").asDouble());
        assertEquals("m-1", detail.path("model").asText());
        assertEquals("c", detail.path("embedding").path("collection").asText());
        assertEquals(jobs.find(id).orElseThrow().voiceId(), detail.path("voice_id").asText());
    }

    @Test
    void failingRecordsOneEventEvenWhenFailedAgain() throws Exception {
        UUID id = processingJob();
        jobs.fail(id, "bad audio");
        jobs.fail(id, "bad audio again"); // a late duplicate delivery: the row stays FAILED, one event
        List<Map<String, Object>> events = eventsOf(id);
        assertEquals(1, events.size());
        assertEquals(JobEvents.FAILED, events.get(0).get("detail_type"));
        JsonNode detail = JSON.readTree((String) events.get(0).get("detail"));
        assertEquals("FAILED", detail.path("status").asText());
        assertEquals("bad audio", detail.path("error").asText());
        assertTrue(detail.path("embedding").isNull() || detail.path("embedding").isMissingNode());
    }

    @Test
    void aRefusedTransitionHasNoEvent() throws Exception {
        UUID pending = UUID.randomUUID();
        jobs.create(pending, "v", "uploads/x.wav");
        assertFalse(jobs.complete(pending, RESULT), "a PENDING row cannot complete");
        assertEquals(List.of(), eventsOf(pending));

        UUID done = processingJob();
        assertTrue(jobs.complete(done, RESULT));
        jobs.fail(done, "late failure"); // COMPLETED is never overwritten, and no Failed event appears
        assertEquals(1, eventsOf(done).size());
        assertEquals(JobEvents.COMPLETED, eventsOf(done).get(0).get("detail_type"));
    }

    @Test
    void aDeletedJobHasNoEvent() throws Exception {
        UUID id = processingJob();
        db.execute("UPDATE voice_processing_jobs SET is_deleted = true WHERE id = '" + id + "'");
        assertFalse(jobs.complete(id, RESULT));
        jobs.fail(id, "job was deleted"); // the deleted row is marked FAILED (architecture §6), silently
        assertEquals(JobStatus.FAILED, jobs.find(id).orElseThrow().status());
        assertEquals(List.of(), eventsOf(id));
    }

    @Test
    void anEventThatCannotBeWrittenRollsTheTransitionBack() throws Exception {
        UUID id = processingJob();
        // Every insert into the outbox fails now: the transition in the same statement must not commit either
        db.execute("ALTER TABLE job_events ADD CONSTRAINT refuse_all CHECK (false) NOT VALID");
        assertThrows(RuntimeException.class, () -> jobs.complete(id, RESULT));
        assertThrows(RuntimeException.class, () -> jobs.fail(id, "x"));
        assertEquals(JobStatus.PROCESSING, jobs.find(id).orElseThrow().status());
        db.execute("ALTER TABLE job_events DROP CONSTRAINT refuse_all");
        assertEquals(List.of(), eventsOf(id));
    }

    @Test
    void aTransitionThatFailsLeavesNoEvent() throws Exception {
        UUID id = processingJob();
        assertThrows(RuntimeException.class, () -> jobs.complete(id, "{not json"));
        assertEquals(JobStatus.PROCESSING, jobs.find(id).orElseThrow().status());
        assertEquals(List.of(), eventsOf(id));
    }

    @Test
    void twoClaimersNeverGetTheSameRow() throws Exception {
        int total = 300;
        for (int i = 0; i < total; i++) {
            UUID id = processingJob();
            if (i % 3 == 0) {
                jobs.fail(id, "failed " + i);
            } else {
                assertTrue(jobs.complete(id, RESULT));
            }
        }
        Set<UUID> seen = ConcurrentHashMap.newKeySet();
        List<UUID> duplicates = new java.util.concurrent.CopyOnWriteArrayList<>();
        CountDownLatch start = new CountDownLatch(1);
        ExecutorService pool = Executors.newFixedThreadPool(4);
        try {
            List<Future<Integer>> claimers = new ArrayList<>();
            for (int t = 0; t < 4; t++) {
                EventOutbox outbox = new EventOutbox(db.dataSource(), Duration.ofMinutes(5));
                claimers.add(pool.submit(() -> {
                    start.await();
                    int claimed = 0;
                    while (true) {
                        List<OutboxEvent> batch = outbox.claim(7);
                        if (batch.isEmpty()) {
                            return claimed;
                        }
                        for (OutboxEvent e : batch) {
                            if (!seen.add(e.eventId())) {
                                duplicates.add(e.eventId());
                            }
                        }
                        claimed += batch.size();
                    }
                }));
            }
            start.countDown();
            int sum = 0;
            for (Future<Integer> f : claimers) {
                sum += f.get();
            }
            assertEquals(List.of(), duplicates, "a row was claimed twice while leased");
            assertEquals(total, seen.size());
            assertEquals(total, sum);
        } finally {
            pool.shutdownNow();
        }
    }

    @Test
    void anExpiredLeaseIsReclaimedAndAPublishedRowIsNot() throws Exception {
        UUID a = processingJob();
        UUID b = processingJob();
        assertTrue(jobs.complete(a, RESULT));
        jobs.fail(b, "x");
        EventOutbox shortLease = new EventOutbox(db.dataSource(), Duration.ofMillis(800));
        List<OutboxEvent> first = shortLease.claim(10);
        assertEquals(2, first.size());
        assertEquals(List.of(), shortLease.claim(10), "leased rows are not claimed again while the lease holds");
        // the holder "dies" (publishes nothing); after the lease, another claimer takes both
        Thread.sleep(1200);
        List<OutboxEvent> again = new EventOutbox(db.dataSource()).claim(10);
        assertEquals(Set.of(first.get(0).eventId(), first.get(1).eventId()),
                new HashSet<>(again.stream().map(OutboxEvent::eventId).toList()));
        assertTrue(again.stream().allMatch(e -> e.attempts() == 2));

        EventOutbox outbox = new EventOutbox(db.dataSource(), Duration.ofMillis(1));
        outbox.markPublished(List.of(JobEvents.eventId(a, "COMPLETED")));
        outbox.retryLater(Map.of(JobEvents.eventId(b, "FAILED"), "sink down"), Duration.ofMillis(700));
        assertEquals(List.of(), outbox.claim(10), "published: never again; refused: not before its retry time");
        assertTrue(outbox.oldestUnpublishedAge().isPresent());
        Thread.sleep(900);
        List<OutboxEvent> retried = outbox.claim(10);
        assertEquals(List.of(JobEvents.eventId(b, "FAILED")), retried.stream().map(OutboxEvent::eventId).toList());
        outbox.markPublished(List.of(retried.get(0).eventId()));
        assertTrue(outbox.oldestUnpublishedAge().isEmpty());
    }
}
