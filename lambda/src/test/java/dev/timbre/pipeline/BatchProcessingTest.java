package dev.timbre.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.amazonaws.services.lambda.runtime.events.SQSBatchResponse;
import com.amazonaws.services.lambda.runtime.events.SQSEvent;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.job.JobRecord;
import dev.timbre.job.JobStatus;
import dev.timbre.lambda.VoiceEmbeddingHandler;
import dev.timbre.local.LocalContext;
import dev.timbre.testing.FakeQdrant;
import dev.timbre.tone.ToneColorExtractor;
import io.grpc.Status;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The Lambda handler over the real pipeline: real extractor (fixture checkpoint), Postgres job table, S3Proxy,
 * ElasticMQ DLQ, and the real Qdrant client over the in-process Qdrant. Only two faults are injected: a
 * Qdrant upsert failure (FakeQdrant) and, in the deadline test, extractions held back.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class BatchProcessingTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_RECEIVES = 5;

    private PipelineHarness harness;
    private ToneColorExtractor extractor;

    @BeforeAll
    void startServers() {
        harness = PipelineHarness.start();
        extractor = PipelineHarness.extractor();
    }

    @AfterAll
    void stopServers() {
        harness.close();
    }

    @AfterEach
    void clearFaults() {
        harness.qdrant.clearFaults();
        harness.drainDlq();
    }

    private static LocalContext context(Duration timeout) {
        return new LocalContext("timbre-test", timeout.toMillis(), 2048);
    }

    private static List<String> failures(SQSBatchResponse response) {
        return response.getBatchItemFailures().stream().map(SQSBatchResponse.BatchItemFailure::getItemIdentifier).toList();
    }

    /** 7 good jobs, 1 poison message, 1 corrupt audio, 1 whose Qdrant write fails (UNAVAILABLE). */
    private record MixedBatch(List<UUID> good, UUID corrupt, UUID transientJob, String poisonBody,
                              List<SqsEvents.Record> records, String transientMessageId, String poisonMessageId) {
        SQSEvent event(int receiveCount) {
            return SqsEvents.of(records.stream().map(r -> r.withReceiveCount(receiveCount)).toList());
        }
    }

    private MixedBatch mixedBatch() {
        List<UUID> good = new ArrayList<>();
        List<SqsEvents.Record> records = new ArrayList<>();
        for (int i = 0; i < 7; i++) {
            String voice = "voice-" + (i % 3);
            UUID job = harness.submit(voice, PipelineHarness.voiceWav(i, 1.0));
            good.add(job);
            records.add(SqsEvents.Record.of(PipelineHarness.body(job, voice)));
        }
        String poisonBody = "{\"job_id\": \"not-a-uuid\", \"voice_id\": \"x\", \"s3_key\": \"k\"}";
        SqsEvents.Record poison = SqsEvents.Record.of(poisonBody);
        records.add(3, poison);
        UUID corrupt = harness.submit("voice-corrupt", "RIFF....WAVEfmt this is not audio".getBytes());
        records.add(SqsEvents.Record.of(PipelineHarness.body(corrupt, "voice-corrupt")));
        UUID transientJob = harness.submit("voice-transient", PipelineHarness.voiceWav(99, 1.0));
        SqsEvents.Record transientRecord = SqsEvents.Record.of(PipelineHarness.body(transientJob, "voice-transient"));
        records.add(6, transientRecord);
        harness.qdrant.failUpsertsFor(transientJob, Status.UNAVAILABLE.withDescription("injected: node restarting"));
        return new MixedBatch(good, corrupt, transientJob, poisonBody, records, transientRecord.messageId(),
                poison.messageId());
    }

    @Nested
    class MixedBatchOfTen {

        @Test
        void onlyTheTransientRecordIsReportedAndEveryOtherOutcomeIsRecorded() throws Exception {
            // given
            MixedBatch batch = mixedBatch();
            VoiceEmbeddingHandler handler = handler(harness,
                    harness.batches(harness.pool(4), new ToneColorEmbedder(extractor), MAX_RECEIVES), Duration.ofSeconds(1));
            int pointsBefore = harness.qdrant.pointCount(PipelineHarness.COLLECTION); // other tests share the server

            // when
            SQSBatchResponse response = handler.handleRequest(batch.event(1), context(Duration.ofSeconds(120)));

            // then: exactly the transient record is redelivered
            assertEquals(List.of(batch.transientMessageId()), failures(response));

            // the 7 good jobs are COMPLETED with the result JSON (docs/architecture.md §4); their points carry the payload
            for (UUID job : batch.good()) {
                JobRecord row = harness.job(job);
                assertEquals(JobStatus.COMPLETED, row.status(), () -> "job " + job + ": " + row.error());
                assertNull(row.error());
                assertEquals(1, row.attempts());
                assertNotNull(row.finishedAt());
                JsonNode result = JSON.readTree(row.resultJson());
                assertEquals(row.voiceId(), result.get("voice_id").asText());
                assertEquals(extractor.modelId(), result.get("model").asText());
                assertEquals(job.toString(), result.at("/embedding/point_id").asText());
                assertEquals(256, result.at("/embedding/dim").asInt());
                assertEquals(harness.store.collection(), result.at("/embedding/collection").asText());
                assertEquals(1.0, result.at("/audio/duration_s").asDouble(), 0.01);
                assertEquals(22050, result.at("/audio/sample_rate_in").asInt());
                assertTrue(result.hasNonNull("processed_at") && result.hasNonNull("message"));

                FakeQdrant.StoredPoint point = harness.qdrant.point(PipelineHarness.COLLECTION, job).orElseThrow();
                assertEquals(256, point.vector().length);
                assertEquals(row.voiceId(), point.string("voice_id").orElseThrow());
                assertEquals(job.toString(), point.string("job_id").orElseThrow());
                assertEquals(extractor.modelId(), point.string("model").orElseThrow());
                assertEquals(1.0, point.number("duration_s").orElseThrow(), 0.01);
                assertTrue(point.string("processed_at").isPresent());
            }
            assertEquals(pointsBefore + 7, harness.qdrant.pointCount(PipelineHarness.COLLECTION),
                    "Qdrant holds the 7 good points and no other");

            // the corrupt one is FAILED with a one-line error about the audio, and has no point
            JobRecord corrupt = harness.job(batch.corrupt());
            assertEquals(JobStatus.FAILED, corrupt.status());
            assertNotNull(corrupt.error());
            assertFalse(corrupt.error().contains("\n"), "one line");
            assertTrue(harness.qdrant.point(PipelineHarness.COLLECTION, batch.corrupt()).isEmpty());

            // the transient one stays retriable: PROCESSING with the error noted
            JobRecord transientRow = harness.job(batch.transientJob());
            assertEquals(JobStatus.PROCESSING, transientRow.status());
            assertTrue(transientRow.error() != null && !transientRow.error().isBlank(), "error noted");

            // the DLQ holds the poison message, unchanged, with its reason
            List<Message> dead = harness.drainDlq();
            assertEquals(1, dead.size());
            assertEquals(batch.poisonBody(), dead.get(0).body());
            assertEquals("job_id is not a UUID: \"not-a-uuid\"",
                    dead.get(0).messageAttributes().get(DeadLetterQueue.REASON_ATTRIBUTE).stringValue());
            assertEquals(batch.poisonMessageId(),
                    dead.get(0).messageAttributes().get(DeadLetterQueue.ORIGINAL_ID_ATTRIBUTE).stringValue());

            // and the invocation wrote one EMF line with the outcome counts
            JsonNode emf = lastEmfLine();
            assertEquals(7, emf.get("JobsCompleted").asInt());
            assertEquals(1, emf.get("JobsFailed").asInt());
            assertEquals(1, emf.get("JobsRetry").asInt());
            assertEquals(1, emf.get("JobsDeadLettered").asInt());
            assertEquals(10, emf.get("BatchSize").get(0).asInt());
        }

        @Test
        void deliveringTheSameBatchTwiceChangesNothing() {
            // given: the batch delivered once
            MixedBatch batch = mixedBatch();
            RecordingEmbedder embedder = new RecordingEmbedder(extractor);
            VoiceEmbeddingHandler handler = handler(harness,
                    harness.batches(harness.pool(4), embedder, MAX_RECEIVES), Duration.ofSeconds(1));
            handler.handleRequest(batch.event(1), context(Duration.ofSeconds(120)));
            Map<UUID, JobRecord> before = new HashMap<>();
            batch.good().forEach(job -> before.put(job, harness.job(job)));
            Map<UUID, float[]> vectorsBefore = new HashMap<>();
            batch.good().forEach(job -> vectorsBefore.put(job,
                    harness.qdrant.point(PipelineHarness.COLLECTION, job).orElseThrow().vector()));
            String corruptError = harness.job(batch.corrupt()).error();
            int pointsBefore = harness.qdrant.pointCount(PipelineHarness.COLLECTION);
            int extractionsBefore = embedder.callCount();

            // when: SQS delivers the same batch again
            SQSBatchResponse again = handler.handleRequest(batch.event(2), context(Duration.ofSeconds(120)));

            // then: the same record is redelivered, completed jobs are untouched and were not extracted again
            assertEquals(List.of(batch.transientMessageId()), failures(again));
            for (UUID job : batch.good()) {
                JobRecord now = harness.job(job);
                JobRecord then = before.get(job);
                assertEquals(JobStatus.COMPLETED, now.status());
                assertEquals(then.attempts(), now.attempts(), "a duplicate delivery is not an attempt");
                assertEquals(then.resultJson(), now.resultJson());
                assertEquals(then.finishedAt(), now.finishedAt());
                assertTrue(java.util.Arrays.equals(vectorsBefore.get(job),
                        harness.qdrant.point(PipelineHarness.COLLECTION, job).orElseThrow().vector()));
            }
            assertEquals(pointsBefore, harness.qdrant.pointCount(PipelineHarness.COLLECTION), "no duplicate points");
            // only the two unfinished jobs (corrupt, transient) were extracted again
            assertEquals(2, embedder.callCount() - extractionsBefore);
            assertEquals(JobStatus.FAILED, harness.job(batch.corrupt()).status());
            assertEquals(corruptError, harness.job(batch.corrupt()).error());
            assertEquals(JobStatus.PROCESSING, harness.job(batch.transientJob()).status());
        }
    }

    @Nested
    class FailureClasses {

        @Test
        void transientFailureOnTheLastAllowedReceiveGivesUpAndAcknowledges() {
            // given: a job whose Qdrant write keeps failing, delivered for the 5th time (maxReceiveCount 5)
            UUID job = harness.submit("voice-flaky", PipelineHarness.voiceWav(7, 1.0));
            harness.qdrant.failUpsertsFor(job, Status.UNAVAILABLE.withDescription("injected"));
            VoiceEmbeddingHandler handler = handler(harness,
                    harness.batches(harness.pool(1), new ToneColorEmbedder(extractor), MAX_RECEIVES), Duration.ofSeconds(1));
            SQSEvent event = SqsEvents.of(List.of(
                    SqsEvents.Record.of(PipelineHarness.body(job, "voice-flaky")).withReceiveCount(MAX_RECEIVES)));

            // when
            SQSBatchResponse response = handler.handleRequest(event, context(Duration.ofSeconds(60)));

            // then
            assertEquals(List.of(), failures(response), "acknowledged: SQS would only dead-letter it");
            JobRecord row = harness.job(job);
            assertEquals(JobStatus.FAILED, row.status());
            assertTrue(row.error().startsWith("gave up after 5 attempts: "), row.error());
        }

        @Test
        void poisonMessageIsReportedWhenTheDlqRefusesIt() {
            // given: a DLQ URL naming a queue that does not exist on the (real) SQS server
            String missingDlq = harness.dlqUrl + "-missing";
            VoiceEmbeddingHandler handler = handler(harness,
                    harness.batches(harness.pool(1), new ToneColorEmbedder(extractor), MAX_RECEIVES, missingDlq),
                    Duration.ofSeconds(1));
            SqsEvents.Record poison = SqsEvents.Record.of("[\"not an object\"]");

            // when
            SQSBatchResponse response = handler.handleRequest(SqsEvents.of(List.of(poison)), context(Duration.ofSeconds(30)));

            // then: not lost: reported for redelivery (and SQS's own redrive takes it eventually)
            assertEquals(List.of(poison.messageId()), failures(response));
        }

        @Test
        void missingObjectAndDeletedJobAreFailedWithAnErrorAndAcknowledged() {
            // given: a job whose audio was never uploaded, a job deleted by its owner, and no job row at all
            UUID noAudio = UUID.randomUUID();
            harness.jobs.create(noAudio, "voice-gone", PipelineHarness.key("voice-gone", noAudio));
            UUID deleted = harness.submit("voice-gone", PipelineHarness.voiceWav(9, 1.0));
            harness.db.execute("UPDATE voice_processing_jobs SET is_deleted = true WHERE id = '" + deleted + "'");
            UUID unknown = UUID.randomUUID();
            VoiceEmbeddingHandler handler = handler(harness,
                    harness.batches(harness.pool(2), new ToneColorEmbedder(extractor), MAX_RECEIVES), Duration.ofSeconds(1));

            // when
            SQSBatchResponse response = handler.handleRequest(SqsEvents.of(List.of(
                    SqsEvents.Record.of(PipelineHarness.body(noAudio, "voice-gone")),
                    SqsEvents.Record.of(PipelineHarness.body(deleted, "voice-gone")),
                    SqsEvents.Record.of(PipelineHarness.body(unknown, "voice-gone")))), context(Duration.ofSeconds(30)));

            // then: nothing to retry; the rows that exist say why
            assertEquals(List.of(), failures(response));
            JobRecord missing = harness.job(noAudio);
            assertEquals(JobStatus.FAILED, missing.status());
            assertTrue(missing.error().contains(PipelineHarness.key("voice-gone", noAudio)), missing.error());
            JobRecord gone = harness.job(deleted);
            assertEquals(JobStatus.FAILED, gone.status());
            assertEquals("job " + deleted + " does not exist or was deleted", gone.error());
            assertTrue(harness.jobs.find(unknown).isEmpty());
        }

        @Test
        void unreachableDatabaseIsTransientAndTheRecordIsRedelivered() {
            // given: the job store on a port where no Postgres listens (a real connection refusal)
            org.postgresql.ds.PGSimpleDataSource nowhere = new org.postgresql.ds.PGSimpleDataSource();
            nowhere.setUrl("jdbc:postgresql://127.0.0.1:1/none?connectTimeout=2");
            JobProcessor processor = new JobProcessor(new dev.timbre.job.PostgresJobStore(nowhere), harness.audio,
                    harness.store, new ToneColorEmbedder(extractor), dev.timbre.tone.SeMode.EXTRACT_SE, MAX_RECEIVES, harness.metrics,
                    java.time.Clock.systemUTC());
            BatchProcessor batches = new BatchProcessor(harness.pool(1), new dev.timbre.job.JobMessageParser(),
                    processor, new DeadLetterQueue(harness.sqsClient, harness.dlqUrl), harness.metrics,
                    java.time.Clock.systemUTC());
            SqsEvents.Record record = SqsEvents.Record.of(PipelineHarness.body(UUID.randomUUID(), "voice-db"));

            // when
            SQSBatchResponse response = handler(harness, batches, Duration.ofSeconds(1))
                    .handleRequest(SqsEvents.of(List.of(record)), context(Duration.ofSeconds(30)));

            // then
            assertEquals(List.of(record.messageId()), failures(response));
        }

        @Test
        void duplicateOfACompletedJobIsAcknowledgedWithoutWork() {
            UUID job = harness.submit("voice-dup", PipelineHarness.voiceWav(3, 1.0));
            RecordingEmbedder embedder = new RecordingEmbedder(extractor);
            VoiceEmbeddingHandler handler = handler(harness,
                    harness.batches(harness.pool(1), embedder, MAX_RECEIVES), Duration.ofSeconds(1));
            SqsEvents.Record record = SqsEvents.Record.of(PipelineHarness.body(job, "voice-dup"));
            handler.handleRequest(SqsEvents.of(List.of(record)), context(Duration.ofSeconds(30)));

            SQSBatchResponse second = handler.handleRequest(SqsEvents.of(List.of(record.withReceiveCount(2))),
                    context(Duration.ofSeconds(30)));

            assertEquals(List.of(), failures(second));
            assertEquals(1, embedder.callCount());
            assertEquals(1, harness.job(job).attempts());
        }
    }

    @Nested
    class Concurrency {

        @Test
        void workerThreadsKeepTheirConverterAcrossInvocationsAndRunInParallel() {
            // given: 4 worker threads, weights already loaded once in this JVM
            int loadsBefore = ToneColorExtractor.weightLoads();
            ToneColorExtractor again = ToneColorExtractor.load(PipelineHarness.CONVERTER, extractor.limits());
            again.close();
            RecordingEmbedder embedder = new RecordingEmbedder(extractor);
            WorkerPool pool = harness.pool(4);
            VoiceEmbeddingHandler handler = handler(harness, harness.batches(pool, embedder, MAX_RECEIVES), Duration.ofSeconds(1));

            // when: two invocations of 8 jobs each
            for (int invocation = 0; invocation < 2; invocation++) {
                List<SqsEvents.Record> records = new ArrayList<>();
                for (int i = 0; i < 8; i++) {
                    UUID job = harness.submit("voice-par", PipelineHarness.voiceWav(100 + invocation * 8 + i, 1.5));
                    records.add(SqsEvents.Record.of(PipelineHarness.body(job, "voice-par")));
                }
                SQSBatchResponse response = handler.handleRequest(SqsEvents.of(records), context(Duration.ofSeconds(120)));
                assertEquals(List.of(), failures(response));
            }

            // then: each worker thread used one converter throughout, and different threads different ones
            List<RecordingEmbedder.Call> calls = embedder.calls();
            assertEquals(16, calls.size());
            Map<String, Set<Object>> convertersByThread = new HashMap<>();
            for (RecordingEmbedder.Call c : calls) {
                convertersByThread.computeIfAbsent(c.thread(), t -> java.util.Collections.newSetFromMap(
                        new java.util.IdentityHashMap<>())).add(c.converter());
                assertTrue(c.thread().startsWith("timbre-worker-"), "ran on the worker pool: " + c.thread());
            }
            convertersByThread.forEach((thread, converters) ->
                    assertEquals(1, converters.size(), thread + " kept one converter"));
            Set<Object> distinct = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
            convertersByThread.values().forEach(distinct::addAll);
            assertEquals(convertersByThread.size(), distinct.size(), "no converter shared between threads");
            Set<String> threadsUsedTwice = calls.stream().collect(Collectors.groupingBy(RecordingEmbedder.Call::thread,
                    Collectors.counting())).entrySet().stream().filter(e -> e.getValue() > 1).map(Map.Entry::getKey)
                    .collect(Collectors.toSet());
            assertFalse(threadsUsedTwice.isEmpty(), "threads were reused across jobs");

            // the weights were loaded once for the process: a second load shared them, the jobs loaded nothing
            assertEquals(loadsBefore, ToneColorExtractor.weightLoads());

            // and extractions on different threads overlapped in time: real parallelism
            boolean overlapped = false;
            for (RecordingEmbedder.Call a : calls) {
                for (RecordingEmbedder.Call b : calls) {
                    if (!a.thread().equals(b.thread()) && a.overlaps(b)) {
                        overlapped = true;
                    }
                }
            }
            assertTrue(overlapped, "extractions on different worker threads overlapped");
        }
    }

    @Nested
    class Deadline {

        @Test
        void recordsNotFinishedBeforeRemainingTimeMinusMarginAreReportedAndFinishedOnesAreNot() throws Exception {
            // given: 4 jobs on 4 threads; two of them are held back (a slow job, the injected fault)
            RecordingEmbedder embedder = new RecordingEmbedder(extractor);
            VoiceEmbeddingHandler handler = handler(harness,
                    harness.batches(harness.pool(4), embedder, MAX_RECEIVES), Duration.ofMillis(500));
            List<SqsEvents.Record> records = new ArrayList<>();
            List<UUID> jobs = new ArrayList<>();
            for (int i = 0; i < 4; i++) {
                byte[] audio = PipelineHarness.voiceWav(200 + i, 1.0);
                if (i % 2 == 1) {
                    embedder.holdBack(audio);
                }
                UUID job = harness.submit("voice-slow", audio);
                jobs.add(job);
                records.add(SqsEvents.Record.of(PipelineHarness.body(job, "voice-slow")));
            }

            // when: the invocation has 6 s left, minus a 0.5 s margin
            long start = System.nanoTime();
            SQSBatchResponse response = handler.handleRequest(SqsEvents.of(records), context(Duration.ofSeconds(6)));
            long tookMs = (System.nanoTime() - start) / 1_000_000;

            // then: it returned before the invocation's end, naming exactly the unfinished records
            assertTrue(tookMs >= 5000 && tookMs < 6000, "returned at the deadline, within the invocation: " + tookMs + " ms");
            assertEquals(List.of(records.get(1).messageId(), records.get(3).messageId()), failures(response));
            assertEquals(JobStatus.COMPLETED, harness.job(jobs.get(0)).status());
            assertEquals(JobStatus.COMPLETED, harness.job(jobs.get(2)).status());

            // and (documented choice) the running ones may still complete later; redelivery then acknowledges them
            embedder.releaseAll();
            long until = System.nanoTime() + Duration.ofSeconds(30).toNanos();
            while ((harness.job(jobs.get(1)).status() != JobStatus.COMPLETED
                    || harness.job(jobs.get(3)).status() != JobStatus.COMPLETED) && System.nanoTime() < until) {
                Thread.sleep(20); // polling a database row, with a deadline: no event to wait on
            }
            assertEquals(JobStatus.COMPLETED, harness.job(jobs.get(1)).status());
            SQSBatchResponse redelivery = handler.handleRequest(
                    SqsEvents.of(List.of(records.get(1).withReceiveCount(2), records.get(3).withReceiveCount(2))),
                    context(Duration.ofSeconds(30)));
            assertEquals(List.of(), failures(redelivery));
        }
    }

    @Nested
    class Fifo {

        @Test
        void groupsRunInOrderAndAGroupStopsAtItsFirstFailure() {
            // given: group A = a1, a2 (transient Qdrant failure), a3; group B = b1, b2
            Map<String, UUID> jobs = new HashMap<>();
            Map<String, byte[]> audio = new HashMap<>();
            List<SqsEvents.Record> records = new ArrayList<>();
            String[][] order = {{"a1", "A"}, {"b1", "B"}, {"a2", "A"}, {"a3", "A"}, {"b2", "B"}};
            int seed = 300;
            for (String[] entry : order) {
                byte[] wav = PipelineHarness.voiceWav(seed++, 1.0);
                UUID job = harness.submit("voice-" + entry[1], wav);
                jobs.put(entry[0], job);
                audio.put(entry[0], wav);
                records.add(SqsEvents.Record.of(PipelineHarness.body(job, "voice-" + entry[1])).inGroup(entry[1]));
            }
            harness.qdrant.failUpsertsFor(jobs.get("a2"), Status.UNAVAILABLE.withDescription("injected"));
            RecordingEmbedder embedder = new RecordingEmbedder(extractor);
            VoiceEmbeddingHandler handler = handler(harness,
                    harness.batches(harness.pool(4), embedder, MAX_RECEIVES), Duration.ofSeconds(1));
            SQSEvent event = SqsEvents.of(records);
            assertTrue(event.getRecords().get(0).getEventSourceArn().endsWith(".fifo"));

            // when
            SQSBatchResponse response = handler.handleRequest(event, context(Duration.ofSeconds(60)));

            // then: a2 failed and a3 was not attempted; both reported, in order; group B unaffected
            assertEquals(List.of(records.get(2).messageId(), records.get(3).messageId()), failures(response));
            assertEquals(JobStatus.COMPLETED, harness.job(jobs.get("a1")).status());
            assertEquals(JobStatus.PROCESSING, harness.job(jobs.get("a2")).status());
            assertEquals(JobStatus.PENDING, harness.job(jobs.get("a3")).status(), "never picked up");
            assertEquals(JobStatus.COMPLETED, harness.job(jobs.get("b1")).status());
            assertEquals(JobStatus.COMPLETED, harness.job(jobs.get("b2")).status());

            // and within each group one message finished before the next started
            Map<Integer, RecordingEmbedder.Call> byAudio = new HashMap<>();
            embedder.calls().forEach(c -> byAudio.put(c.audioHash(), c));
            RecordingEmbedder.Call a1 = byAudio.get(java.util.Arrays.hashCode(audio.get("a1")));
            RecordingEmbedder.Call a2 = byAudio.get(java.util.Arrays.hashCode(audio.get("a2")));
            RecordingEmbedder.Call b1 = byAudio.get(java.util.Arrays.hashCode(audio.get("b1")));
            RecordingEmbedder.Call b2 = byAudio.get(java.util.Arrays.hashCode(audio.get("b2")));
            assertTrue(a1.endNanos() <= a2.startNanos(), "a1 before a2");
            assertTrue(b1.endNanos() <= b2.startNanos(), "b1 before b2");
            assertFalse(byAudio.containsKey(java.util.Arrays.hashCode(audio.get("a3"))), "a3 never extracted");
        }
    }

    @Nested
    class FifoPoison {

        @Test
        void poisonInAGroupGoesToTheFifoDlqAndTheGroupGoesOn() {
            // given: a FIFO DLQ (needs a group and a deduplication id) and group G = poison, good job
            String fifoDlq = harness.sqsClient.createQueue(b -> b.queueName("poison-" + UUID.randomUUID().toString()
                    .substring(0, 8) + ".fifo").attributes(Map.of(
                    software.amazon.awssdk.services.sqs.model.QueueAttributeName.FIFO_QUEUE, "true"))).queueUrl();
            UUID job = harness.submit("voice-G", PipelineHarness.voiceWav(600, 1.0));
            SqsEvents.Record poison = SqsEvents.Record.of("{\"job_id\":\"" + UUID.randomUUID() + "\"}").inGroup("G");
            SqsEvents.Record good = SqsEvents.Record.of(PipelineHarness.body(job, "voice-G")).inGroup("G");
            VoiceEmbeddingHandler handler = handler(harness, harness.batches(harness.pool(2),
                    new ToneColorEmbedder(extractor), MAX_RECEIVES, fifoDlq), Duration.ofSeconds(1));

            // when
            SQSBatchResponse response = handler.handleRequest(SqsEvents.of(List.of(poison, good)),
                    context(Duration.ofSeconds(60)));

            // then
            assertEquals(List.of(), failures(response));
            assertEquals(JobStatus.COMPLETED, harness.job(job).status());
            List<Message> dead = harness.sqsClient.receiveMessage(r -> r.queueUrl(fifoDlq).maxNumberOfMessages(10)
                    .messageAttributeNames("All").messageSystemAttributeNames(
                            software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName.MESSAGE_GROUP_ID))
                    .messages();
            assertEquals(1, dead.size());
            assertEquals("G", dead.get(0).attributes().get(
                    software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName.MESSAGE_GROUP_ID));
            assertEquals("required field voice_id is missing",
                    dead.get(0).messageAttributes().get(DeadLetterQueue.REASON_ATTRIBUTE).stringValue());
        }
    }

    private JsonNode lastEmfLine() throws Exception {
        String[] lines = harness.emfOutput().strip().split("\n");
        return JSON.readTree(lines[lines.length - 1]);
    }

    /**
     * Lambda Managed Instances: several invocations run in one execution environment at once, on one handler and
     * one worker pool. Two invocations share a 1-thread pool whose jobs each take 400 ms: a 12-record batch starts
     * first, then a 3-record batch with a 4 s deadline. With one FIFO queue the small batch would wait 4.8 s for the
     * big one and report everything unfinished; with a lane per batch the two take turns and each invocation gets
     * exactly its own partial batch response.
     */
    @SuppressWarnings("unused")
    @Nested
    class ConcurrentInvocationsInOneEnvironment {

        @Test
        void aBigBatchDoesNotStarveASmallOneAndEachGetsItsOwnPartialBatchResponse() throws Exception {
            ToneColorEmbedder real = new ToneColorEmbedder(extractor);
            Embedder slow = new Embedder() {
                @Override
                public dev.timbre.tone.Extraction extract(byte[] encodedAudio, dev.timbre.tone.SeMode mode) {
                    try {
                        Thread.sleep(400);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new IllegalStateException(e);
                    }
                    return real.extract(encodedAudio, mode);
                }

                @Override
                public String modelId() {
                    return real.modelId();
                }
            };
            WorkerPool pool = harness.pool(1);
            VoiceEmbeddingHandler handler = handler(harness, harness.batches(pool, slow, MAX_RECEIVES),
                    Duration.ofSeconds(1));

            List<UUID> bigJobs = new ArrayList<>();
            List<SqsEvents.Record> bigRecords = new ArrayList<>();
            for (int i = 0; i < 12; i++) {
                UUID job = harness.submit("voice-big", PipelineHarness.voiceWav(200 + i, 1.0));
                bigJobs.add(job);
                bigRecords.add(SqsEvents.Record.of(PipelineHarness.body(job, "voice-big")));
            }
            List<UUID> smallJobs = new ArrayList<>();
            List<SqsEvents.Record> smallRecords = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                UUID job = harness.submit("voice-small", PipelineHarness.voiceWav(300 + i, 1.0));
                smallJobs.add(job);
                smallRecords.add(SqsEvents.Record.of(PipelineHarness.body(job, "voice-small")));
            }
            UUID transientJob = harness.submit("voice-small", PipelineHarness.voiceWav(399, 1.0));
            SqsEvents.Record transientRecord = SqsEvents.Record.of(PipelineHarness.body(transientJob, "voice-small"));
            smallRecords.add(1, transientRecord);
            harness.qdrant.failUpsertsFor(transientJob, Status.UNAVAILABLE.withDescription("injected"));

            java.util.concurrent.ExecutorService invocations = java.util.concurrent.Executors.newFixedThreadPool(2);
            try {
                java.util.concurrent.Future<SQSBatchResponse> big = invocations.submit(() ->
                        handler.handleRequest(SqsEvents.of(bigRecords), context(Duration.ofSeconds(60))));
                long waitUntil = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (pool.queued() < 11 && System.nanoTime() < waitUntil) {
                    Thread.sleep(5); // the big batch is queued and its first job runs
                }
                assertTrue(pool.queued() >= 11, "the big batch is queued first");
                long smallStart = System.nanoTime();
                java.util.concurrent.Future<SQSBatchResponse> small = invocations.submit(() ->
                        handler.handleRequest(SqsEvents.of(smallRecords), context(Duration.ofSeconds(5))));

                SQSBatchResponse smallResponse = small.get(30, TimeUnit.SECONDS);
                long smallMillis = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - smallStart);
                assertEquals(List.of(transientRecord.messageId()), failures(smallResponse),
                        "the small invocation reports exactly its transient record (took " + smallMillis + " ms)");
                for (UUID job : smallJobs) {
                    assertEquals(JobStatus.COMPLETED, harness.job(job).status(), "small batch job " + job);
                }
                assertTrue(smallMillis < 4_800, "the small batch finished before the big one could have: " + smallMillis);

                SQSBatchResponse bigResponse = big.get(60, TimeUnit.SECONDS);
                assertEquals(List.of(), failures(bigResponse), "the big invocation finished every record");
                for (UUID job : bigJobs) {
                    assertEquals(JobStatus.COMPLETED, harness.job(job).status(), "big batch job " + job);
                }
                assertEquals(JobStatus.PROCESSING, harness.job(transientJob).status(), "left for redelivery");
            } finally {
                invocations.shutdownNow();
                harness.qdrant.clearFaults();
            }
        }
    }

    private static Set<String> set(String... s) {
        return new HashSet<>(List.of(s));
    }

    /** The Lambda handler over the harness's batch processor and metrics, as the function wires it. */
    private static VoiceEmbeddingHandler handler(PipelineHarness harness, BatchProcessor batches, Duration margin) {
        return new VoiceEmbeddingHandler(batches, harness.metrics, margin, Clock.systemUTC());
    }
}
