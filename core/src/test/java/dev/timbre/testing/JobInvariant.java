package dev.timbre.testing;

import dev.timbre.job.JobMessageParser;
import dev.timbre.job.JobStatus;
import dev.timbre.job.PoisonMessageException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * The job lifecycle invariant (docs/reliability.md, "Job lifecycle invariant"), checked after every chaos run and
 * fault test once the consumers have stopped:
 * <ol>
 *   <li>every job row is COMPLETED or FAILED, or its message is still in the jobs queue or the DLQ (then the row is
 *       PENDING or PROCESSING, a state {@code ./timbre reconcile} finishes from the DLQ, and redelivery from the
 *       queue);</li>
 *   <li>an embedding point exists only for a COMPLETED job, or for a job whose message is still in one of the queues
 *       (its redelivery or {@code ./timbre reconcile} removes the point with the verdict); a COMPLETED, not deleted
 *       job has its point.</li>
 * </ol>
 * {@link #finished} is the stricter state the operator command must reach: every row COMPLETED or FAILED, and points
 * only for COMPLETED jobs.
 *
 * <p>Reading a queue receives each message once (which counts as a receive) and makes it visible again afterwards.
 */
public final class JobInvariant {

    /** One job row as the invariant sees it. */
    public record Row(UUID id, JobStatus status, boolean deleted) {
        boolean open() {
            return status == JobStatus.PENDING || status == JobStatus.PROCESSING;
        }
    }

    /**
     * What the invariant is checked against.
     *
     * @param rows    every job row
     * @param inQueue the job ids of the messages in the jobs queue
     * @param inDlq   the job ids of the (job) messages in the DLQ
     * @param points  the ids of every embedding point (point id = job id)
     */
    public record State(Map<UUID, Row> rows, Set<UUID> inQueue, Set<UUID> inDlq, Set<UUID> points) {
        public long count(JobStatus status) {
            return rows.values().stream().filter(r -> r.status() == status).count();
        }

        /** The part of the state about these jobs (tests sharing one database check their own jobs). */
        public State only(Set<UUID> jobIds) {
            Map<UUID, Row> mine = new LinkedHashMap<>();
            rows.forEach((id, row) -> {
                if (jobIds.contains(id)) {
                    mine.put(id, row);
                }
            });
            return new State(mine, intersect(inQueue, jobIds), intersect(inDlq, jobIds), intersect(points, jobIds));
        }

        private static Set<UUID> intersect(Set<UUID> a, Set<UUID> b) {
            Set<UUID> both = new HashSet<>(a);
            both.retainAll(b);
            return both;
        }
    }

    private static final JobMessageParser PARSER = new JobMessageParser();

    private JobInvariant() {
    }

    /**
     * Reads rows, queues and points. Waits (up to {@code settle}) for messages still hidden by a visibility timeout to
     * come back first: at rest, a message in flight is one a stopped consumer never finished.
     */
    public static State read(DataSource db, SqsClient sqs, String queueUrl, String dlqUrl, Set<UUID> points,
                             Duration settle) {
        awaitNothingInFlight(sqs, queueUrl, settle);
        awaitNothingInFlight(sqs, dlqUrl, settle);
        Set<UUID> inQueue = jobIdsIn(sqs, queueUrl); // first: a receive may move a message on to the DLQ
        Set<UUID> inDlq = jobIdsIn(sqs, dlqUrl);
        return new State(rows(db), inQueue, inDlq, Set.copyOf(points));
    }

    /** The invariant; empty when it holds, else one line per violation. */
    public static List<String> violations(State s) {
        List<String> violations = new ArrayList<>();
        for (Row row : s.rows().values()) {
            boolean queued = s.inQueue().contains(row.id()) || s.inDlq().contains(row.id());
            if (row.open() && !queued) {
                violations.add("job " + row.id() + " is " + row.status() + (row.deleted() ? " (deleted)" : "")
                        + " and its message is in neither the jobs queue nor the DLQ: nothing will ever finish it");
            }
            if (row.status() == JobStatus.COMPLETED && !row.deleted() && !s.points().contains(row.id())) {
                violations.add("job " + row.id() + " is COMPLETED without its point");
            }
        }
        for (UUID point : s.points()) {
            Row row = s.rows().get(point);
            boolean queued = s.inQueue().contains(point) || s.inDlq().contains(point);
            if (row == null) {
                violations.add("point " + point + " has no job row");
            } else if (row.status() != JobStatus.COMPLETED && !queued) {
                violations.add("point " + point + " belongs to a " + row.status() + (row.deleted() ? " deleted" : "")
                        + " job whose message is gone: it will never be removed");
            }
        }
        return violations;
    }

    /**
     * The state after the operator command: every row finished, every COMPLETED, not deleted job with its point and
     * no point of a job that is not COMPLETED. (A job deleted after it completed may keep its point: nothing in the
     * pipeline sees that deletion; {@code similar} never shows such a point.)
     */
    public static List<String> finished(State s) {
        List<String> violations = new ArrayList<>();
        for (Row row : s.rows().values()) {
            if (row.open()) {
                violations.add("job " + row.id() + " is still " + row.status());
            }
            boolean point = s.points().contains(row.id());
            if (row.status() == JobStatus.COMPLETED && !row.deleted() && !point) {
                violations.add("job " + row.id() + " is COMPLETED without its point");
            }
            if (row.status() != JobStatus.COMPLETED && point) {
                violations.add("job " + row.id() + " is " + row.status() + (row.deleted() ? " (deleted)" : "")
                        + " but has a point");
            }
        }
        for (UUID point : s.points()) {
            if (!s.rows().containsKey(point)) {
                violations.add("point " + point + " has no job row");
            }
        }
        return violations;
    }

    /** Every job row. */
    public static Map<UUID, Row> rows(DataSource db) {
        Map<UUID, Row> rows = new LinkedHashMap<>();
        try (Connection c = db.getConnection(); PreparedStatement s = c.prepareStatement(
                "SELECT id, status, is_deleted FROM voice_processing_jobs ORDER BY created_at");
             ResultSet r = s.executeQuery()) {
            while (r.next()) {
                UUID id = r.getObject(1, UUID.class);
                rows.put(id, new Row(id, JobStatus.valueOf(r.getString(2)), r.getBoolean(3)));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading the job rows failed", e);
        }
        return rows;
    }

    /** The point ids of the Postgres embedding store's table (every collection). */
    public static Set<UUID> postgresPoints(DataSource db) {
        Set<UUID> ids = new HashSet<>();
        try (Connection c = db.getConnection(); PreparedStatement s = c.prepareStatement(
                "SELECT point_id FROM voice_embeddings"); ResultSet r = s.executeQuery()) {
            while (r.next()) {
                ids.add(r.getObject(1, UUID.class));
            }
        } catch (SQLException e) {
            throw new IllegalStateException("reading the embedding points failed", e);
        }
        return ids;
    }

    /** The job ids of the job messages in a queue (poison left out); every message is visible again afterwards. */
    public static Set<UUID> jobIdsIn(SqsClient sqs, String queueUrl) {
        Set<UUID> ids = new HashSet<>();
        Set<String> seen = new HashSet<>();
        List<String> receipts = new ArrayList<>();
        try {
            while (true) {
                List<Message> got = sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10)
                        .waitTimeSeconds(0).visibilityTimeout(30)).messages();
                if (got.isEmpty()) {
                    return ids;
                }
                for (Message m : got) {
                    receipts.add(m.receiptHandle());
                    if (seen.add(m.messageId())) {
                        try {
                            ids.add(PARSER.parse(m.body()).jobId());
                        } catch (PoisonMessageException e) {
                            // poison: no job row to account for
                        }
                    }
                }
            }
        } finally {
            for (String receipt : receipts) {
                sqs.changeMessageVisibility(b -> b.queueUrl(queueUrl).receiptHandle(receipt).visibilityTimeout(0));
            }
        }
    }

    /** Messages visible or in flight in a queue. */
    public static int depth(SqsClient sqs, String queueUrl) {
        Map<QueueAttributeName, String> a = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(
                QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributes();
        return a.values().stream().mapToInt(Integer::parseInt).sum();
    }

    private static void awaitNothingInFlight(SqsClient sqs, String queueUrl, Duration bound) {
        long until = System.nanoTime() + bound.toNanos();
        while (Integer.parseInt(sqs.getQueueAttributes(b -> b.queueUrl(queueUrl).attributeNames(
                QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributes()
                .get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)) > 0) {
            if (System.nanoTime() > until) {
                return; // read what is visible; a message still hidden counts as absent, which can only fail the check
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }
}
