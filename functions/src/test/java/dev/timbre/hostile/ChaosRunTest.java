package dev.timbre.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The shortened chaos run of the suite: 10 good jobs, 2 with undecodable audio and 2 poison messages through the
 * Lambda handler behind the local event-source mapping, sent over 8 s while S3, Postgres and Qdrant faults fire
 * every 0.6 s (for the first 16 s) and Lambda deadlines
 * (see {@link ChaosRun}). The full run, with a real ECS worker process SIGKILLed and restarted, is
 * {@code bench/chaos.sh}.
 */
class ChaosRunTest {

    @Test
    void underFaultsNoJobIsLostStuckOrDuplicatedAndTheDlqHoldsOnlyPoison() {
        ChaosRun.Settings settings = new ChaosRun.Settings(10, 2, 2, false, Duration.ofMillis(600),
                Duration.ofSeconds(8), Duration.ofSeconds(16), Duration.ofSeconds(75), 11);
        ChaosRun.Report report = assertTimeoutPreemptively(Duration.ofSeconds(120),
                () -> ChaosRun.run(settings, System.out));
        System.out.println(report.markdown());
        assertTrue(report.faults().values().stream().mapToInt(Integer::intValue).sum() >= 8,
                "faults were injected: " + report.faults());
        assertEquals(0, report.lost(), "lost");
        assertEquals(0, report.stuck(), "stuck");
        assertEquals(0, report.duplicatePoints(), "duplicate points");
        assertTrue(report.dlqOnlyPoison(), "the DLQ holds exactly the poison messages");
        assertTrue(report.passed(), report.failures().toString());
    }
}
