package dev.timbre.notify;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpServer;
import dev.timbre.job.JobStore.PickUp;
import dev.timbre.job.PostgresJobStore;
import dev.timbre.local.EmbeddedSqs;
import dev.timbre.pipeline.PipelineMetrics;
import dev.timbre.testing.TestDatabase;
import dev.timbre.testsupport.TcpProxy;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.eventbridge.EventBridgeClient;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;

/**
 * The publisher against real protocol servers: ElasticMQ behind a TCP proxy that the test cuts (the SQS sink
 * unreachable for a while, then back), and an HTTP server speaking EventBridge's PutEvents JSON protocol that refuses
 * some entries (the SDK's real client and wire format).
 */
class OutboxPublisherTest {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String RESULT = "{\"model\":\"m\",\"embedding\":{\"collection\":\"c\",\"point_id\":\"p\"},"
            + "\"audio\":{\"duration_s\":1.0}}";

    private TestDatabase db;
    private PostgresJobStore jobs;
    private final ByteArrayOutputStream metricsOut = new ByteArrayOutputStream();
    private PipelineMetrics metrics;

    @BeforeEach
    void setUp() {
        db = TestDatabase.create();
        jobs = new PostgresJobStore(db.dataSource());
        metrics = new PipelineMetrics(new PrintStream(metricsOut, true, StandardCharsets.UTF_8), "Timbre", "test",
                Clock.systemUTC());
    }

    @AfterEach
    void tearDown() {
        db.close();
    }

    /** Finishes {@code n} jobs (every third FAILED); returns the event ids their transitions recorded. */
    private Set<UUID> finishJobs(int n) {
        Set<UUID> ids = new HashSet<>();
        for (int i = 0; i < n; i++) {
            UUID id = UUID.randomUUID();
            jobs.create(id, "voice-" + (i % 4), "uploads/" + id + ".wav");
            assertEquals(PickUp.STARTED, jobs.pickUp(id));
            if (i % 3 == 0) {
                jobs.fail(id, "bad audio " + i);
                ids.add(JobEvents.eventId(id, "FAILED"));
            } else {
                assertTrue(jobs.complete(id, RESULT));
                ids.add(JobEvents.eventId(id, "COMPLETED"));
            }
        }
        return ids;
    }

    @Test
    void everyEventArrivesAfterTheSqsSinkWasUnreachableForAWhile() throws Exception {
        try (EmbeddedSqs sqs = EmbeddedSqs.start();
             TcpProxy proxy = new TcpProxy("127.0.0.1", sqs.endpoint().getPort());
             SqsClient reader = sqs.newClient()) {
            String queue = sqs.createQueue("timbre-events", Duration.ofSeconds(30));
            SqsClient viaProxy = SqsClient.builder().endpointOverride(URI.create("http://127.0.0.1:" + proxy.port()))
                    .region(Region.of(EmbeddedSqs.REGION))
                    .credentialsProvider(StaticCredentialsProvider.create(
                            AwsBasicCredentials.create(EmbeddedSqs.ACCESS_KEY, EmbeddedSqs.SECRET_KEY)))
                    .httpClient(UrlConnectionHttpClient.create()).overrideConfiguration(EventSinks.BOUNDED).build();
            Set<UUID> expected = finishJobs(25);

            proxy.cut();
            try (OutboxPublisher publisher = new OutboxPublisher(new EventOutbox(db.dataSource()),
                    new SqsEventSink(viaProxy, queue), metrics)) {
                assertEquals(0, publisher.sweepOnce(Duration.ofSeconds(5)), "nothing goes while the sink is cut");
                assertTrue(metricsOut.toString(StandardCharsets.UTF_8).contains("\"EventPublishFailures\":25"),
                        metricsOut.toString(StandardCharsets.UTF_8));
                assertTrue(metricsOut.toString(StandardCharsets.UTF_8).contains("EventOutboxAgeSeconds"));
                publisher.startSweeper(Duration.ofMillis(200));
                Thread.sleep(2500); // the sweeper keeps failing meanwhile
                proxy.restore();

                Map<UUID, Integer> copies = receiveUntil(reader, queue, expected, Duration.ofSeconds(40));
                assertEquals(expected, copies.keySet(), "every event arrived once the sink was back");
            }
            assertTrue(new EventOutbox(db.dataSource()).oldestUnpublishedAge().isEmpty(), "the outbox is drained");
            assertTrue(metricsOut.toString(StandardCharsets.UTF_8).contains("EventsPublished"));
        }
    }

    /** Reads the queue until every expected event id was seen; returns copies per event id. */
    private static Map<UUID, Integer> receiveUntil(SqsClient reader, String queue, Set<UUID> expected,
                                                   Duration wait) throws Exception {
        Map<UUID, Integer> copies = new HashMap<>();
        long deadline = System.nanoTime() + wait.toNanos();
        while (!copies.keySet().containsAll(expected) && System.nanoTime() < deadline) {
            for (Message m : reader.receiveMessage(b -> b.queueUrl(queue).maxNumberOfMessages(10).waitTimeSeconds(1))
                    .messages()) {
                JsonNode event = JSON.readTree(m.body());
                assertEquals("timbre", event.path("source").asText());
                assertEquals(event.path("id").asText(), event.path("detail").path("event_id").asText());
                UUID id = UUID.fromString(event.path("id").asText());
                UUID jobId = UUID.fromString(event.path("detail").path("job_id").asText());
                String status = event.path("detail").path("status").asText();
                assertEquals(JobEvents.eventId(jobId, status), id, "the id is the job's and status's");
                assertEquals(JobEvents.detailType(status), event.path("detail-type").asText());
                copies.merge(id, 1, Integer::sum);
                reader.deleteMessage(b -> b.queueUrl(queue).receiptHandle(m.receiptHandle()));
            }
        }
        return copies;
    }

    /**
     * A PutEvents endpoint: refuses the events at odd positions of a request the first time it sees them, and
     * then until each was refused {@code refusals} times; records every request's event ids.
     */
    private static final class FakeEventBridge implements AutoCloseable {
        final HttpServer server;
        final List<List<String>> requests = new CopyOnWriteArrayList<>();
        final Map<String, Integer> refusedSoFar = new ConcurrentHashMap<>();
        final List<String> targets = new CopyOnWriteArrayList<>();
        volatile int refusals = 1;

        FakeEventBridge() throws Exception {
            server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            server.createContext("/", exchange -> {
                targets.add(exchange.getRequestHeaders().getFirst("X-Amz-Target"));
                JsonNode body = JSON.readTree(exchange.getRequestBody().readAllBytes());
                ObjectNode response = JSON.createObjectNode();
                ArrayNode entries = response.putArray("Entries");
                List<String> ids = new ArrayList<>();
                int failed = 0;
                int i = 0;
                for (JsonNode entry : body.path("Entries")) {
                    String id = JSON.readTree(entry.path("Detail").asText()).path("event_id").asText();
                    ids.add(id);
                    // an event refused before is refused again while refusals last, wherever it stands now
                    boolean refuse = refusedSoFar.containsKey(id) ? refusedSoFar.get(id) < refusals
                            : i % 2 == 1 && refusals > 0;
                    i++;
                    if (refuse) {
                        refusedSoFar.merge(id, 1, Integer::sum);
                        entries.addObject().put("ErrorCode", "InternalFailure").put("ErrorMessage", "try again");
                        failed++;
                    } else {
                        entries.addObject().put("EventId", UUID.randomUUID().toString());
                    }
                }
                requests.add(ids);
                response.put("FailedEntryCount", failed);
                byte[] bytes = JSON.writeValueAsBytes(response);
                exchange.getResponseHeaders().add("Content-Type", "application/x-amz-json-1.1");
                exchange.sendResponseHeaders(200, bytes.length);
                exchange.getResponseBody().write(bytes);
                exchange.close();
            });
            server.start();
        }

        EventBridgeClient client() {
            return EventBridgeClient.builder()
                    .endpointOverride(URI.create("http://127.0.0.1:" + server.getAddress().getPort()))
                    .region(Region.US_EAST_1)
                    .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("k", "s")))
                    .httpClient(UrlConnectionHttpClient.create()).build();
        }

        @Override
        public void close() {
            server.stop(0);
        }
    }

    @Test
    void eventBridgeEntriesRefusedOnceAreResentAloneAndArrive() throws Exception {
        try (FakeEventBridge bridge = new FakeEventBridge()) {
            Set<UUID> expected = finishJobs(14);
            try (OutboxPublisher publisher = new OutboxPublisher(new EventOutbox(db.dataSource()),
                    new EventBridgeSink(bridge.client(), "timbre-events"), metrics)) {
                assertEquals(14, publisher.publishPending(Duration.ofSeconds(10)));
            }
            assertTrue(bridge.targets.stream().allMatch("AWSEvents.PutEvents"::equals), bridge.targets.toString());
            // 14 events: chunks of 10 and 4 (PutEvents' limit), each followed by a resend of only its refused entries
            assertEquals(List.of(10, 5, 4, 2), bridge.requests.stream().map(List::size).toList());
            Set<String> resent = new HashSet<>(bridge.requests.get(1));
            resent.addAll(bridge.requests.get(3));
            assertEquals(bridge.refusedSoFar.keySet(), resent, "only the refused entries were resent");
            Map<String, Integer> sent = new HashMap<>();
            bridge.requests.forEach(r -> r.forEach(id -> sent.merge(id, 1, Integer::sum)));
            assertEquals(expected.stream().map(UUID::toString).collect(java.util.stream.Collectors.toSet()),
                    sent.keySet());
            assertTrue(new EventOutbox(db.dataSource()).oldestUnpublishedAge().isEmpty());
        }
    }

    @Test
    void eventBridgeEntriesRefusedEveryTimeStayInTheOutboxForALaterSweep() throws Exception {
        try (FakeEventBridge bridge = new FakeEventBridge()) {
            bridge.refusals = EntryRetry.ATTEMPTS; // refused on every try of this round
            Set<UUID> expected = finishJobs(4);
            try (OutboxPublisher publisher = new OutboxPublisher(new EventOutbox(db.dataSource()),
                    new EventBridgeSink(bridge.client(), "timbre-events"), metrics)) {
                assertEquals(2, publisher.sweepOnce(Duration.ofSeconds(10)));
                assertTrue(metricsOut.toString(StandardCharsets.UTF_8).contains("\"EventPublishFailures\":2"),
                        metricsOut.toString(StandardCharsets.UTF_8));
                assertTrue(new EventOutbox(db.dataSource()).oldestUnpublishedAge().isPresent());
                // the refused two wait for their retry time (1 s after the first attempt), then go alone
                Thread.sleep(1300);
                bridge.refusals = 0;
                int before = bridge.requests.size();
                assertEquals(2, publisher.publishPending(Duration.ofSeconds(10)));
                assertEquals(List.of(2), bridge.requests.subList(before, bridge.requests.size()).stream()
                        .map(List::size).toList());
            }
            Set<String> sent = new HashSet<>();
            bridge.requests.forEach(sent::addAll);
            assertEquals(expected.stream().map(UUID::toString).collect(java.util.stream.Collectors.toSet()), sent);
            assertTrue(new EventOutbox(db.dataSource()).oldestUnpublishedAge().isEmpty());
        }
    }
}
