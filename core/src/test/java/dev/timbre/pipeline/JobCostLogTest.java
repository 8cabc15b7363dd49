package dev.timbre.pipeline;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.timbre.job.JobMessageParser;
import dev.timbre.tone.Extraction;
import dev.timbre.tone.SeMode;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.time.Clock;
import java.util.HashMap;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.slf4j.LoggerFactory;
import org.slf4j.event.KeyValuePair;

/**
 * The line that ends a completed job says what each stage cost: wall time ({@code <stage>_ms}) and the job thread's
 * CPU time ({@code <stage>_cpu_ms}, {@code total_cpu_ms}), which {@code bench/jobcost.sh} tabulates and operators
 * read (docs/operations.md, "Alarms"). The embedder here burns a known amount of CPU, so the extract stage's CPU
 * must show it and the other stages must not; the job table (Postgres), S3 and the store are the harness's.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class JobCostLogTest {

    private static final long BURN_NANOS = 30_000_000;
    private static final ThreadMXBean THREADS = ManagementFactory.getThreadMXBean();

    private PipelineHarness harness;

    @BeforeAll
    void start() {
        harness = PipelineHarness.start();
    }

    @AfterAll
    void stop() {
        harness.close();
    }

    /** Spins on the calling thread for {@link #BURN_NANOS} of its CPU time, then answers. */
    private static final class BurningEmbedder implements Embedder {
        @Override
        public Extraction extract(byte[] encodedAudio, SeMode mode) {
            long until = THREADS.getCurrentThreadCpuTime() + BURN_NANOS;
            long spins = 0;
            while (THREADS.getCurrentThreadCpuTime() < until) {
                spins++;
            }
            float[] vector = new float[256];
            vector[0] = spins > 0 ? 1f : 0f;
            return new Extraction(vector, 3.0, 22050);
        }

        @Override
        public String modelId() {
            return "burning";
        }
    }

    @Test
    void theCompletedLineCarriesEachStagesWallAndCpuTime() {
        // given: the processor's log captured
        Logger logger = (Logger) LoggerFactory.getLogger(JobProcessor.class);
        ListAppender<ILoggingEvent> lines = new ListAppender<>();
        lines.start();
        logger.addAppender(lines);
        UUID jobId = harness.submit("cost-voice", new byte[] {1, 2, 3});
        JobProcessor processor = new JobProcessor(harness.jobs, harness.audio, harness.store, new BurningEmbedder(),
                SeMode.EXTRACT_SE, 5, harness.metrics, Clock.systemUTC());

        // when
        JobOutcome outcome;
        try {
            outcome = processor.process(new JobMessageParser().parse(PipelineHarness.body(jobId, "cost-voice")), 1);
        } finally {
            logger.detachAppender(lines);
        }

        // then
        assertEquals(Disposition.COMPLETED, outcome.disposition());
        ILoggingEvent completed = lines.list.stream().filter(e -> "job completed".equals(e.getFormattedMessage()))
                .findFirst().orElseThrow(() -> new AssertionError("no 'job completed' line in " + lines.list));
        Map<String, Object> fields = new HashMap<>();
        for (KeyValuePair pair : completed.getKeyValuePairs()) {
            fields.put(pair.key, pair.value);
        }
        for (String stage : new String[] {"pickup", "fetch", "extract", "store", "complete"}) {
            assertTrue(fields.containsKey(stage + "_ms"), stage + "_ms missing: " + fields);
            assertTrue(fields.containsKey(stage + "_cpu_ms"), stage + "_cpu_ms missing: " + fields);
        }
        double extractCpu = number(fields, "extract_cpu_ms");
        double totalCpu = number(fields, "total_cpu_ms");
        assertTrue(extractCpu >= BURN_NANOS / 1e6 - 0.1, "the burn is extract's CPU: " + fields);
        assertTrue(extractCpu <= number(fields, "extract_ms") + 1, "CPU within the stage's wall time: " + fields);
        assertTrue(totalCpu >= extractCpu, "the job's CPU holds its stages': " + fields);
        for (String stage : new String[] {"pickup", "fetch", "store", "complete"}) {
            assertTrue(number(fields, stage + "_cpu_ms") < BURN_NANOS / 1e6, stage + " did not burn: " + fields);
        }
    }

    private static double number(Map<String, Object> fields, String key) {
        return ((Number) fields.get(key)).doubleValue();
    }
}
