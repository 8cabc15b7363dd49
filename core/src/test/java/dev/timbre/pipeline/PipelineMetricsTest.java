package dev.timbre.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

class PipelineMetricsTest {

    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private final PipelineMetrics metrics = new PipelineMetrics(new PrintStream(out, true, StandardCharsets.UTF_8),
            "Timbre", "timbre-test", Clock.fixed(Instant.ofEpochMilli(1764380400000L), ZoneOffset.UTC));

    private List<JsonNode> lines() throws Exception {
        List<JsonNode> nodes = new ArrayList<>();
        for (String line : out.toString(StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank()) {
                nodes.add(new ObjectMapper().readTree(line));
            }
        }
        return nodes;
    }

    @Test
    void flushWritesOneEmbeddedMetricFormatLineDeclaringEveryMetric() throws Exception {
        // given
        metrics.countOutcome(Disposition.COMPLETED);
        metrics.countOutcome(Disposition.COMPLETED);
        metrics.countOutcome(Disposition.RETRY);
        metrics.stageLatency("Extract", 120);
        metrics.stageLatency("Extract", 80);
        metrics.batchSize(10);
        metrics.queueAge(-5); // clock skew between SQS and us is not a negative age

        // when
        metrics.flush();

        // then
        List<JsonNode> lines = lines();
        assertEquals(1, lines.size());
        JsonNode emf = lines.get(0);
        JsonNode directive = emf.at("/_aws/CloudWatchMetrics/0");
        assertEquals(1764380400000L, emf.at("/_aws/Timestamp").asLong());
        assertEquals("Timbre", directive.get("Namespace").asText());
        assertEquals("Service", directive.at("/Dimensions/0/0").asText());
        assertEquals("timbre-test", emf.get("Service").asText());
        List<String> declared = new ArrayList<>();
        directive.get("Metrics").forEach(m -> declared.add(m.get("Name").asText() + ":" + m.get("Unit").asText()));
        assertEquals(List.of("JobsCompleted:Count", "JobsRetry:Count", "StageExtractMs:Milliseconds",
                "BatchSize:Count", "QueueAgeMs:Milliseconds"), declared);
        assertEquals(2, emf.get("JobsCompleted").asInt());
        assertEquals(1, emf.get("JobsRetry").asInt());
        assertEquals(List.of(120.0, 80.0), List.of(emf.get("StageExtractMs").get(0).asDouble(), emf.get("StageExtractMs").get(1).asDouble()));
        assertEquals(0.0, emf.get("QueueAgeMs").get(0).asDouble());
    }

    @Test
    void flushStartsAfreshAndWritesNothingWhenEmpty() throws Exception {
        metrics.countOutcome(Disposition.FAILED);
        metrics.flush();
        metrics.flush();

        assertEquals(1, lines().size());
    }

    @Test
    void concurrentRecordingLosesNothing() throws Exception {
        // given: 8 threads recording 1000 outcomes each, released together
        ExecutorService threads = Executors.newFixedThreadPool(8);
        CountDownLatch go = new CountDownLatch(1);
        List<Future<?>> done = new ArrayList<>();
        for (int t = 0; t < 8; t++) {
            done.add(threads.submit(() -> {
                go.await();
                for (int i = 0; i < 1000; i++) {
                    metrics.countOutcome(Disposition.COMPLETED);
                }
                return null;
            }));
        }
        go.countDown();
        for (Future<?> f : done) {
            f.get();
        }
        threads.shutdown();

        metrics.flush();

        assertEquals(8000, lines().get(0).get("JobsCompleted").asInt());
        assertTrue(threads.isShutdown());
    }
}
