package dev.timbre.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * The shortened chaos run of the suite: 10 good jobs, 2 with undecodable audio, 2 poison messages and 3 messages no
 * SQS request can carry (not UTF-8, U+FFFF, over 1 MiB), published to RabbitMQ over 8 s, forwarded by a bridge
 * process into SQS and taken by the Lambda handler behind the local event-source mapping, while S3, Postgres, Qdrant
 * and RabbitMQ faults fire every 0.6 s for the first 16 s, the bridge is SIGKILLed and restarted, and Lambda
 * deadlines hit (see {@link ChaosRun}). The full run, with 1000 jobs and a real ECS worker process also SIGKILLed,
 * is {@code bench/chaos.sh}.
 */
class ChaosRunTest {

    @Test
    void underFaultsNoJobIsLostStuckOrDuplicatedAndTheDeadLetterQueuesHoldOnlyPoison() {
        ChaosRun.Settings settings = new ChaosRun.Settings(10, 2, 2, 3, true, false, Duration.ofMillis(600),
                Duration.ofSeconds(8), Duration.ofSeconds(16), Duration.ofSeconds(90), 11);
        ChaosRun.Report report = assertTimeoutPreemptively(Duration.ofSeconds(150),
                () -> ChaosRun.run(settings, System.out));
        System.out.println(report.markdown());
        assertTrue(report.faults().values().stream().mapToInt(Integer::intValue).sum() >= 8,
                "faults were injected: " + report.faults());
        assertTrue(report.faults().containsKey("bridge SIGKILL + restart"), "the bridge was killed: " + report.faults());
        assertEquals(0, report.invariantViolations(), "job lifecycle invariant: " + report.failures());
        assertEquals(0, report.lost(), "lost");
        assertEquals(0, report.stuck(), "stuck");
        assertEquals(0, report.duplicatePoints(), "duplicate points");
        assertEquals(0, report.leftInRabbit(), "left in RabbitMQ");
        assertEquals(0, report.secretsInChildLogs(), "secrets in the bridge's logs");
        assertTrue(report.dlqOnlyPoison(), "the DLQ holds exactly the poison messages");
        assertTrue(report.bridgeDlqOnlyUnsendable(), "the bridge's dead-letter queue holds exactly the unsendable ones");
        assertTrue(report.passed(), report.failures().toString());
    }
}
