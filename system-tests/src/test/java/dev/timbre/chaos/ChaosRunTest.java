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
        ChaosSettings settings = ChaosSettings.builder().jobs(10).badAudio(2).poison(2).unsendable(3).bridge(true)
                .ecsWorker(false).faultPeriod(Duration.ofMillis(600)).submitOver(Duration.ofSeconds(8))
                .faultFor(Duration.ofSeconds(16)).timeout(Duration.ofSeconds(90)).seed(11).build();
        ChaosReport report = assertTimeoutPreemptively(Duration.ofSeconds(150),
                () -> ChaosRun.run(settings, System.out));
        System.out.println(report.markdown());
        assertTrue(report.faults().total() >= 8, "faults were injected: " + report.faults().counts());
        assertTrue(report.faults().counts().containsKey(Fault.BRIDGE_SIGKILL.label()),
                "the bridge was killed: " + report.faults().counts());
        assertEquals(0, report.jobs().invariantViolations(), "job lifecycle invariant: " + report.failures());
        assertEquals(0, report.jobs().lost(), "lost");
        assertEquals(0, report.jobs().stuck(), "stuck");
        assertEquals(0, report.jobs().duplicatePoints(), "duplicate points");
        assertEquals(0, report.queues().leftInRabbit(), "left in RabbitMQ");
        assertEquals(0, report.processes().secretsInChildLogs(), "secrets in the bridge's logs");
        assertTrue(report.queues().dlqOnlyPoison(), "the DLQ holds exactly the poison messages");
        assertEquals(0, report.events().missing(), "terminal jobs without their event: " + report.failures());
        assertEquals(0, report.events().extra(), "extra events: " + report.failures());
        assertEquals(report.events().terminalJobs() + report.events().superseded(), report.events().distinct(),
                "one distinct event per terminal job");
        assertTrue(report.queues().bridgeDlqOnlyUnsendable(),
                "the bridge's dead-letter queue holds exactly the unsendable ones");
        assertTrue(report.passed(), report.failures().toString());
    }
}
