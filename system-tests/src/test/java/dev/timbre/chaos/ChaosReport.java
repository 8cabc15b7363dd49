package dev.timbre.chaos;

import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The figures of one chaos run, by part: what became of the jobs, what the queues hold, which faults fired, how long
 * jobs took, and what the processes logged and used. {@code failures} are the requirements not met, each a line.
 */
public record ChaosReport(ChaosSettings settings, long seconds, Jobs jobs, Queues queues, Events events,
                          Faults faults, Latency latency, Processes processes, List<String> failures) {

    /**
     * What became of the jobs.
     *
     * @param completed            rows COMPLETED
     * @param failedBad            bad-audio jobs FAILED with a clear error
     * @param gaveUp               good jobs FAILED after max receives
     * @param lost                 rows not terminal (stuck ones included)
     * @param stuck                rows left PROCESSING
     * @param points               Qdrant points
     * @param duplicatePoints      points − completed jobs − points of jobs not COMPLETED
     * @param pointsOfNonCompleted points of good jobs that are not COMPLETED
     * @param invariantViolations  job lifecycle invariant violations (row open with its message in no queue; point
     *                             of a job not COMPLETED)
     */
    public record Jobs(int completed, int failedBad, int gaveUp, int lost, int stuck, int points, int duplicatePoints,
                       int pointsOfNonCompleted, int invariantViolations) {
    }

    /**
     * What the queues hold afterwards.
     *
     * @param dlqMessages             messages in the SQS DLQ
     * @param dlqOnlyPoison           whether they are exactly the poison messages
     * @param dlqCopies               extra copies (forwarded again after a bridge SIGKILL, at-least-once)
     * @param leftInRabbit            ready in the bridge's RabbitMQ queue
     * @param bridgeDeadLetters       in the bridge's dead-letter queue
     * @param bridgeDlqOnlyUnsendable whether they are exactly the unsendable messages
     */
    public record Queues(int dlqMessages, boolean dlqOnlyPoison, int dlqCopies, int leftInRabbit,
                         int bridgeDeadLetters, boolean bridgeDlqOnlyUnsendable) {
    }

    /**
     * The completion events on the SQS sink (docs/architecture.md §13), after the outbox was drained.
     *
     * @param terminalJobs jobs COMPLETED or FAILED (not deleted)
     * @param distinct     distinct event ids received
     * @param messages     messages received (copies included: at-least-once)
     * @param missing      terminal jobs without an event of their final status
     * @param extra        events of a job that is not terminal, or whose status the job never ended in
     * @param superseded   Failed events of jobs COMPLETED later (a copy of the message took the job up again after
     *                     its row was FAILED); both transitions committed, so both events are true
     * @param unpublished  outbox rows still unpublished at the end
     */
    public record Events(int terminalJobs, int distinct, int messages, int missing, int extra, int superseded,
                         int unpublished) {
    }

    /**
     * The faults that fired.
     *
     * @param counts              by the name of the {@link Fault} (and the processes that exited on their own)
     * @param invocations         Lambda invocations
     * @param deadlineInvocations of which ran into the deadline
     */
    public record Faults(Map<String, Integer> counts, long invocations, long deadlineInvocations) {
        public int total() {
            return counts.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    /** End-to-end per completed job, created → finished. */
    public record Latency(long p50Ms, long p95Ms, long p99Ms) {
    }

    /**
     * The child processes' logs and this JVM's memory.
     *
     * @param childLogFiles      logs of the bridge and worker processes
     * @param secretsInChildLogs secrets (AWS secret key, AMQP credentials) found in them
     * @param heapSlopeMibPerMin slope of the heap floor (lowest used heap per 10 s)
     * @param rssSlopeMibPerMin  slope of the RSS
     */
    public record Processes(int childLogFiles, int secretsInChildLogs, double heapSlopeMibPerMin,
                            double rssSlopeMibPerMin, long maxHeapMib, long maxRssMib) {
    }

    public boolean passed() {
        return failures.isEmpty();
    }

    public String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("| figure | value |\n|---|---|\n");
        row(md, "good jobs", settings.jobs());
        row(md, "bad-audio jobs (must FAIL)", settings.badAudio());
        row(md, "poison messages (must reach the DLQ)", settings.poison());
        row(md, "path", settings.bridge() ? "RabbitMQ → bridge process (SIGKILLed) → SQS" : "straight to SQS");
        if (settings.bridge()) {
            row(md, "unsendable messages (not UTF-8, U+FFFF, over 1 MiB: must reach the bridge's dead-letter queue)",
                    settings.unsendable());
        }
        row(md, "ECS worker process (SIGKILLed)", settings.ecsWorker() ? "yes" : "no");
        row(md, "messages sent at a steady rate over", settings.submitOver().toSeconds() + " s");
        row(md, "fault schedule: one fault every / for", settings.faultPeriod().toMillis() + " ms / "
                + settings.faultFor().toSeconds() + " s");
        row(md, "wall time", seconds + " s");
        row(md, "completed", jobs.completed());
        row(md, "bad jobs FAILED with a clear error", jobs.failedBad());
        row(md, "good jobs that gave up (FAILED after max receives)", jobs.gaveUp());
        row(md, "**lost** (no terminal state)", jobs.lost());
        row(md, "**stuck** in PROCESSING", jobs.stuck());
        row(md, "Qdrant points", jobs.points());
        row(md, "**duplicate points** (points − completed jobs)", jobs.duplicatePoints());
        row(md, "points of jobs not COMPLETED", jobs.pointsOfNonCompleted());
        row(md, "**job lifecycle invariant violations** (row open with its message in no queue; point of a job "
                + "not COMPLETED)", jobs.invariantViolations());
        row(md, "DLQ messages", queues.dlqMessages() + (queues.dlqOnlyPoison() ? " (the poison messages, nothing else"
                : " (NOT only poison") + (queues.dlqCopies() > 0 ? "; " + queues.dlqCopies()
                + " extra copies: forwarded again after a bridge SIGKILL, at-least-once)" : ")"));
        if (settings.bridge()) {
            row(md, "**left in RabbitMQ** after the run", queues.leftInRabbit());
            row(md, "bridge dead-letter queue", queues.bridgeDeadLetters() + (queues.bridgeDlqOnlyUnsendable()
                    ? " (the unsendable messages, nothing else)" : " (NOT only the unsendable ones)"));
        }
        row(md, "completion events: distinct / messages (copies) for terminal jobs", events.distinct() + " / "
                + events.messages() + " for " + events.terminalJobs());
        row(md, "**events missing** (terminal job without its event)", events.missing());
        row(md, "**extra events** (job not terminal, or a status it never had)", events.extra());
        row(md, "Failed events of jobs COMPLETED later by a copy of their message", events.superseded());
        row(md, "events left unpublished in the outbox", events.unpublished());
        row(md, "secrets (AWS secret key, AMQP credentials) in the logs of the " + processes.childLogFiles()
                + " child processes", processes.secretsInChildLogs());
        faults.counts().forEach((kind, count) -> row(md, "faults: " + kind, count));
        row(md, "Lambda invocations (of which ran into the deadline)", faults.invocations() + " ("
                + faults.deadlineInvocations() + ")");
        row(md, "end-to-end per job p50 / p95 / p99 (created → finished)", latency.p50Ms() + " / " + latency.p95Ms()
                + " / " + latency.p99Ms() + " ms");
        row(md, "heap floor (lowest used heap per 10 s) slope / max used", String.format(Locale.ROOT,
                "%.1f MiB/min / %d MiB", processes.heapSlopeMibPerMin(), processes.maxHeapMib()));
        row(md, "RSS slope / max", String.format(Locale.ROOT, "%.1f MiB/min / %d MiB", processes.rssSlopeMibPerMin(),
                processes.maxRssMib()));
        row(md, "result", passed() ? "PASS" : "FAIL: " + String.join("; ", failures));
        return md.toString();
    }

    private static void row(StringBuilder md, String name, Object value) {
        md.append("| ").append(name).append(" | ").append(value).append(" |\n");
    }
}
