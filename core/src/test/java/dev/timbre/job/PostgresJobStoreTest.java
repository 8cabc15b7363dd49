package dev.timbre.job;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.job.JobStore.PickUp;
import dev.timbre.testing.TestDatabase;
import java.net.ServerSocket;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.postgresql.ds.PGSimpleDataSource;

class PostgresJobStoreTest {

    private static TestDatabase db;
    private static PostgresJobStore jobs;

    @BeforeAll
    static void createDatabase() {
        db = TestDatabase.create();
        jobs = new PostgresJobStore(db.dataSource());
    }

    @AfterAll
    static void dropDatabase() {
        db.close();
    }

    private static UUID newJob() {
        UUID id = UUID.randomUUID();
        jobs.create(id, "voice-1", "uploads/" + id + ".wav");
        return id;
    }

    private static JobRecord row(UUID id) {
        return jobs.find(id).orElseThrow();
    }

    @Nested
    class Transitions {

        @Test
        void createdJobIsPendingWithNoAttempts() {
            UUID id = newJob();

            JobRecord job = row(id);
            assertAll(
                    () -> assertEquals(JobStatus.PENDING, job.status()),
                    () -> assertEquals(0, job.attempts()),
                    () -> assertEquals("voice-1", job.voiceId()),
                    () -> assertFalse(job.deleted()),
                    () -> assertNotNull(job.createdAt()),
                    () -> assertNull(job.startedAt()));
        }

        @Test
        void pickUpMovesPendingToProcessingAndCountsTheAttempt() {
            UUID id = newJob();

            assertEquals(PickUp.STARTED, jobs.pickUp(id));

            JobRecord job = row(id);
            assertEquals(JobStatus.PROCESSING, job.status());
            assertEquals(1, job.attempts());
            assertNotNull(job.startedAt());
        }

        @Test
        void completeStoresResultAndClearsTheNotedError() {
            UUID id = newJob();
            jobs.pickUp(id);
            jobs.noteTransientError(id, "qdrant unavailable");
            assertEquals("qdrant unavailable", row(id).error());

            assertTrue(jobs.complete(id, "{\"message\":\"ok\",\"embedding\":{\"dim\":256}}"));

            JobRecord job = row(id);
            assertEquals(JobStatus.COMPLETED, job.status());
            assertNull(job.error());
            assertTrue(job.resultJson().contains("\"dim\": 256"), job.resultJson());
            assertNotNull(job.finishedAt());
        }

        @Test
        void completeOnlyWorksFromProcessing() {
            UUID pending = newJob();
            UUID failed = newJob();
            jobs.pickUp(failed);
            jobs.fail(failed, "audio is empty");

            assertFalse(jobs.complete(pending, "{}"), "PENDING cannot complete without a pick-up");
            assertFalse(jobs.complete(failed, "{}"), "FAILED cannot complete without a pick-up");
            assertFalse(jobs.complete(UUID.randomUUID(), "{}"), "a missing job cannot complete");
            assertEquals(JobStatus.PENDING, row(pending).status());
            assertEquals(JobStatus.FAILED, row(failed).status());
        }

        @Test
        void completedNeverRegresses() {
            UUID id = newJob();
            jobs.pickUp(id);
            jobs.complete(id, "{\"message\":\"first\"}");

            // when: a duplicate delivery and late failures arrive
            PickUp again = jobs.pickUp(id);
            jobs.fail(id, "late failure");
            jobs.noteTransientError(id, "late transient error");
            boolean secondComplete = jobs.complete(id, "{\"message\":\"second\"}");

            // then
            JobRecord job = row(id);
            assertEquals(PickUp.ALREADY_COMPLETED, again);
            assertFalse(secondComplete);
            assertEquals(JobStatus.COMPLETED, job.status());
            assertEquals(1, job.attempts(), "a duplicate delivery is not an attempt");
            assertNull(job.error());
            assertTrue(job.resultJson().contains("first"));
        }

        @Test
        void failedJobCanBePickedUpAgain() {
            UUID id = newJob();
            jobs.pickUp(id);
            jobs.fail(id, "gave up");

            assertEquals(PickUp.STARTED, jobs.pickUp(id));
            assertEquals(JobStatus.PROCESSING, row(id).status());
            assertEquals(2, row(id).attempts());
            assertNull(row(id).finishedAt());
        }

        @Test
        void failureErrorIsOneBoundedLine() {
            UUID id = newJob();
            jobs.pickUp(id);

            jobs.fail(id, "decoder said:\n  line two\tand three" + "x".repeat(5000));

            String error = row(id).error();
            assertFalse(error.contains("\n"));
            assertTrue(error.startsWith("decoder said: line two and three"), error);
            assertEquals(PostgresJobStore.MAX_ERROR_CHARS, error.length());
        }

        @Test
        void transientErrorIsNotedOnlyWhileProcessing() {
            UUID pending = newJob();

            jobs.noteTransientError(pending, "s3 timeout");

            assertNull(row(pending).error());
            assertEquals(JobStatus.PENDING, row(pending).status());
        }

        @Test
        void missingAndDeletedJobsAreNotFound() {
            UUID deleted = newJob();
            db.execute("UPDATE voice_processing_jobs SET is_deleted = true WHERE id = '" + deleted + "'");

            assertEquals(PickUp.NOT_FOUND_OR_DELETED, jobs.pickUp(UUID.randomUUID()));
            assertEquals(PickUp.NOT_FOUND_OR_DELETED, jobs.pickUp(deleted));
            assertEquals(JobStatus.PENDING, row(deleted).status());
            assertEquals(0, row(deleted).attempts());
        }

        @Test
        void deletedCompletedJobIsNotFoundRatherThanDuplicate() {
            UUID id = newJob();
            jobs.pickUp(id);
            jobs.complete(id, "{}");
            db.execute("UPDATE voice_processing_jobs SET is_deleted = true WHERE id = '" + id + "'");

            assertEquals(PickUp.NOT_FOUND_OR_DELETED, jobs.pickUp(id));
        }

        @Test
        void createIsIdempotentAndNeverResetsARunningJob() {
            UUID id = newJob();
            jobs.pickUp(id);

            jobs.create(id, "voice-1", "other-key");

            assertEquals(JobStatus.PROCESSING, row(id).status());
            assertEquals("uploads/" + id + ".wav", row(id).s3Key());
        }

        @Test
        void createRejectsAnOverlongVoiceId() {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> jobs.create(UUID.randomUUID(), "v".repeat(129), "k"));
            assertTrue(e.getMessage().contains("voice_id must be 1..128"), e.getMessage());
        }
    }

    @Nested
    class Concurrency {

        @Test
        void eightConcurrentPickUpsOfOneJobCountEightAttemptsAndOnlyOneCompletes() throws Exception {
            UUID id = newJob();
            int threads = 8;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<Boolean>> outcomes = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    int worker = i;
                    outcomes.add(pool.submit(() -> {
                        start.await(10, TimeUnit.SECONDS);
                        PickUp pickUp = jobs.pickUp(id);
                        // Each delivery that got the job tries to finish it; only one may win
                        return pickUp == PickUp.STARTED && jobs.complete(id, "{\"worker\":" + worker + "}");
                    }));
                }
                start.countDown();
                int completions = 0;
                for (Future<Boolean> outcome : outcomes) {
                    completions += outcome.get(30, TimeUnit.SECONDS) ? 1 : 0;
                }

                JobRecord job = row(id);
                assertEquals(1, completions, "exactly one delivery completes the job");
                assertEquals(JobStatus.COMPLETED, job.status());
                assertTrue(job.attempts() >= 1 && job.attempts() <= threads,
                        "attempts counts the pick-ups that happened before completion: " + job.attempts());
            } finally {
                pool.shutdownNow();
            }
        }

        @Test
        void eightConcurrentPickUpsLoseNoAttemptIncrement() throws Exception {
            UUID id = newJob();
            int threads = 8;
            ExecutorService pool = Executors.newFixedThreadPool(threads);
            try {
                CountDownLatch start = new CountDownLatch(1);
                List<Future<PickUp>> outcomes = new ArrayList<>();
                for (int i = 0; i < threads; i++) {
                    outcomes.add(pool.submit(() -> {
                        start.await(10, TimeUnit.SECONDS);
                        return jobs.pickUp(id);
                    }));
                }
                start.countDown();
                for (Future<PickUp> outcome : outcomes) {
                    assertEquals(PickUp.STARTED, outcome.get(30, TimeUnit.SECONDS));
                }

                assertEquals(threads, row(id).attempts());
            } finally {
                pool.shutdownNow();
            }
        }
    }

    @Nested
    class Faults {

        @Test
        void unreachableDatabaseIsTransient() throws Exception {
            int closedPort;
            try (ServerSocket socket = new ServerSocket(0)) {
                closedPort = socket.getLocalPort();
            }
            PGSimpleDataSource nowhere = new PGSimpleDataSource();
            nowhere.setURL("jdbc:postgresql://127.0.0.1:" + closedPort + "/none");
            nowhere.setUser("postgres");
            nowhere.setConnectTimeout(2);
            JobStore unreachable = new PostgresJobStore(nowhere);

            TransientJobException e = assertThrows(TransientJobException.class,
                    () -> unreachable.pickUp(UUID.randomUUID()));
            assertTrue(e.getMessage().startsWith("database unavailable: picking up job"), e.getMessage());
            assertFalse(e.getMessage().contains("\n"));
        }

        @Test
        void rowLockedPastTheStatementTimeoutIsTransient() throws Exception {
            UUID id = newJob();
            JobStore impatient = new PostgresJobStore(db.dataSource(), Duration.ofSeconds(1));

            try (Connection holder = db.dataSource().getConnection()) {
                holder.setAutoCommit(false);
                try (PreparedStatement lock = holder.prepareStatement(
                        "SELECT 1 FROM voice_processing_jobs WHERE id = ? FOR UPDATE")) {
                    lock.setObject(1, id);
                    lock.executeQuery().close();
                }
                long started = System.nanoTime();

                TransientJobException e = assertThrows(TransientJobException.class, () -> impatient.pickUp(id));

                long elapsedMs = (System.nanoTime() - started) / 1_000_000;
                assertTrue(e.getMessage().contains("57014"), e.getMessage());
                assertTrue(elapsedMs < 5_000, "cancelled after " + elapsedMs + " ms");
                holder.rollback();
            }
            assertEquals(JobStatus.PENDING, row(id).status(), "the cancelled pick-up changed nothing");
        }

        @Test
        void sqlStatesAreClassifiedOnce() {
            assertAll(
                    () -> assertTrue(SqlErrors.isTransientState("08006"), "connection failure"),
                    () -> assertTrue(SqlErrors.isTransientState("08001"), "cannot connect"),
                    () -> assertTrue(SqlErrors.isTransientState("57P01"), "admin shutdown"),
                    () -> assertTrue(SqlErrors.isTransientState("40001"), "serialization failure"),
                    () -> assertTrue(SqlErrors.isTransientState("40P01"), "deadlock"),
                    () -> assertTrue(SqlErrors.isTransientState("53300"), "too many connections"),
                    () -> assertTrue(SqlErrors.isTransientState("57014"), "statement timeout"),
                    () -> assertFalse(SqlErrors.isTransientState("23505"), "unique violation"),
                    () -> assertFalse(SqlErrors.isTransientState("42P01"), "undefined table"),
                    () -> assertFalse(SqlErrors.isTransientState(null)));
        }

        @Test
        void brokenSchemaIsNotTransient() {
            db.execute("CREATE SCHEMA IF NOT EXISTS empty_schema");
            PGSimpleDataSource wrongSchema = new PGSimpleDataSource();
            wrongSchema.setURL(db.jdbcUrl());
            wrongSchema.setUser(db.user());
            wrongSchema.setCurrentSchema("empty_schema");

            assertThrows(IllegalStateException.class,
                    () -> new PostgresJobStore(wrongSchema).pickUp(UUID.randomUUID()));
        }
    }
}
