package dev.timbre.blackbox;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import javax.sql.DataSource;

/**
 * The project's invariant, checked from outside: every job row is COMPLETED or FAILED, or its message is still in
 * the jobs queue or its dead-letter queue; never neither. A message a stopped worker left hidden (received, not
 * deleted, not handed back) still counts once it reappears, so the check waits out the visibility timeout while
 * any message is hidden, and fails at once when none is and a job is missing.
 */
final class JobInvariant {

    private JobInvariant() {
    }

    /** What the check saw: rows by status, and how many unfinished jobs were found as queued messages. */
    record Outcome(Map<String, Integer> statuses, int unfinishedInQueues) {
    }

    /**
     * Checks every row of {@code voice_processing_jobs}; call it with no worker running, or with one that is
     * allowed to finish jobs while it looks (a row is re-read on every pass).
     *
     * @throws AssertionError naming each job that is neither finished nor queued
     */
    static Outcome assertHolds(DataSource db, AwsAccount aws, AwsAccount.Queues queues, Duration visibilityTimeout) {
        if (!Pipeline.tableExists(db, "voice_processing_jobs")) {
            return new Outcome(Map.of(), 0); // never migrated: no job could be submitted
        }
        long deadline = System.nanoTime() + visibilityTimeout.plusSeconds(20).toNanos();
        while (true) {
            Map<String, String> rows = rows(db);
            Set<String> unfinished = new HashSet<>();
            rows.forEach((id, status) -> {
                if (!status.equals("COMPLETED") && !status.equals("FAILED")) {
                    unfinished.add(id);
                }
            });
            Map<String, Integer> statuses = new LinkedHashMap<>();
            rows.values().forEach(s -> statuses.merge(s, 1, Integer::sum));
            if (unfinished.isEmpty()) {
                return new Outcome(statuses, 0);
            }
            // the hidden count first: a message handed back between the two reads is then seen by the peek
            int hidden = QueuePeek.hidden(aws.sqs(), queues.queueUrl()) + QueuePeek.hidden(aws.sqs(), queues.dlqUrl());
            Set<String> queued = new HashSet<>();
            for (String url : new String[] {queues.queueUrl(), queues.dlqUrl()}) {
                QueuePeek.visible(aws.sqs(), url).forEach(m -> QueuePeek.jobId(m).ifPresent(queued::add));
            }
            Set<String> missing = new HashSet<>(unfinished);
            missing.removeAll(queued);
            // a job finished while the queues were read has no message any more: read its row again
            Map<String, String> again = rows(db);
            missing.removeIf(id -> again.get(id).equals("COMPLETED") || again.get(id).equals("FAILED"));
            if (missing.isEmpty()) {
                return new Outcome(statuses, unfinished.size());
            }
            if (hidden == 0 || System.nanoTime() > deadline) {
                Map<String, String> lost = new LinkedHashMap<>();
                missing.forEach(id -> lost.put(id, again.get(id)));
                throw new AssertionError("jobs neither finished nor queued (lost): " + lost + "; messages still hidden: "
                        + hidden + "; all rows: " + statuses);
            }
            sleep(Duration.ofSeconds(1));
        }
    }

    /** Job id to status, every row. */
    static Map<String, String> rows(DataSource db) {
        Map<String, String> rows = new LinkedHashMap<>();
        try (Connection c = db.getConnection(); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("SELECT id, status FROM voice_processing_jobs ORDER BY created_at")) {
            while (r.next()) {
                rows.put(r.getString(1), r.getString(2));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("cannot read the job rows: " + e.getMessage(), e);
        }
        return rows;
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted", e);
        }
    }
}
