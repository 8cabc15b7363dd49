package dev.timbre.job;

import dev.timbre.notify.JobEvents;
import dev.timbre.tone.SeMode;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * {@link JobStore} on the {@code voice_processing_jobs} table (docs/architecture.md §4). Every transition is one conditional
 * {@code UPDATE}, so concurrent deliveries of one job are decided by Postgres row locks, not by this class:
 * two {@link #complete} calls cannot both succeed, and a {@code COMPLETED} row never changes again.
 *
 * <p>Thread-safe: holds no state but the data source, borrowing one connection per call (auto-commit).
 * Transient database faults (see {@link SqlErrors}) surface as {@link TransientJobException}; other SQL errors
 * as {@link IllegalStateException}.
 */
public final class PostgresJobStore implements JobStore {

    /** Errors are for people: one line, bounded, so a huge exception message cannot bloat the row. */
    static final int MAX_ERROR_CHARS = 2000;

    private static final String COLUMNS = "id, voice_id, s3_key, status, attempts, result::text AS result, error, "
            + "is_deleted, created_at, updated_at, started_at, finished_at, se_mode, speech::text AS speech";

    /**
     * Longest a single statement may run, waiting for row locks included; then the driver cancels it (SQLSTATE
     * 57014, transient) so a stuck row cannot hold a worker past the Lambda deadline.
     */
    public static final Duration DEFAULT_STATEMENT_TIMEOUT = Duration.ofSeconds(10);

    private final DataSource dataSource;
    private final int statementTimeoutSeconds;

    public PostgresJobStore(DataSource dataSource) {
        this(dataSource, DEFAULT_STATEMENT_TIMEOUT);
    }

    /** @param statementTimeout bound of each statement, whole seconds (at least 1) */
    public PostgresJobStore(DataSource dataSource, Duration statementTimeout) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.statementTimeoutSeconds = (int) Math.max(1, statementTimeout.toSeconds());
    }

    @Override
    public PickUp pickUp(UUID jobId) {
        try (Connection c = dataSource.getConnection()) {
            try (PreparedStatement update = c.prepareStatement(
                    "UPDATE voice_processing_jobs"
                            + " SET status = 'PROCESSING', attempts = attempts + 1, started_at = now(),"
                            + " updated_at = now(), finished_at = NULL"
                            + " WHERE id = ? AND is_deleted = false AND status IN ('PENDING', 'PROCESSING', 'FAILED')"
                            + " RETURNING attempts")) {
                update.setQueryTimeout(statementTimeoutSeconds);
                update.setObject(1, jobId);
                try (ResultSet rs = update.executeQuery()) {
                    if (rs.next()) {
                        return PickUp.STARTED;
                    }
                }
            }
            // The update hit nothing: either the job is done (a duplicate delivery) or it is gone. A row can only
            // move on from COMPLETED by deletion, so reading after the update cannot mistake one for the other.
            try (PreparedStatement read = c.prepareStatement(
                    "SELECT status, is_deleted FROM voice_processing_jobs WHERE id = ?")) {
                read.setQueryTimeout(statementTimeoutSeconds);
                read.setObject(1, jobId);
                try (ResultSet rs = read.executeQuery()) {
                    if (rs.next() && !rs.getBoolean("is_deleted")
                            && JobStatus.COMPLETED.name().equals(rs.getString("status"))) {
                        return PickUp.ALREADY_COMPLETED;
                    }
                    return PickUp.NOT_FOUND_OR_DELETED;
                }
            }
        } catch (SQLException e) {
            throw SqlErrors.classify("picking up job " + jobId, e);
        }
    }

    @Override
    public boolean complete(UUID jobId, String resultJson) {
        Objects.requireNonNull(resultJson, "resultJson");
        return withEvent("completing job " + jobId, "COMPLETED",
                "UPDATE voice_processing_jobs"
                        + " SET status = 'COMPLETED', result = ?::jsonb, error = NULL, finished_at = now(),"
                        + " updated_at = now(),"
                        // V4: the embedding's mode and the speech summary in their own columns, so that queries
                        // need not parse results; a result without se_mode is a whole-clip embedding
                        + " se_mode = coalesce(?::jsonb ->> 'se_mode', 'extract-se'), speech = ?::jsonb -> 'speech'"
                        + " WHERE id = ? AND status = 'PROCESSING' AND is_deleted = false",
                resultJson, resultJson, resultJson, jobId) == 1;
    }

    /** Any state but COMPLETED becomes FAILED: a finished job is never overwritten by a late failure. */
    @Override
    public void fail(UUID jobId, String error) {
        withEvent("failing job " + jobId, "FAILED",
                "UPDATE voice_processing_jobs"
                        + " SET status = 'FAILED', error = ?, finished_at = now(), updated_at = now()"
                        + " WHERE id = ? AND status <> 'COMPLETED'",
                oneLine(error), jobId);
    }

    /** Only a PROCESSING row is annotated; the status stays, so the redelivery can pick it up again. */
    @Override
    public void noteTransientError(UUID jobId, String error) {
        update("noting an error on job " + jobId,
                "UPDATE voice_processing_jobs SET error = ?, updated_at = now()"
                        + " WHERE id = ? AND status = 'PROCESSING'",
                oneLine(error), jobId);
    }

    @Override
    public boolean lockedIfFailedOrGone(UUID jobId, Runnable action) {
        Objects.requireNonNull(action, "action");
        try (Connection c = dataSource.getConnection()) {
            c.setAutoCommit(false);
            try {
                boolean failedOrGone;
                try (PreparedStatement lock = c.prepareStatement(
                        "SELECT status, is_deleted FROM voice_processing_jobs WHERE id = ? FOR UPDATE")) {
                    lock.setQueryTimeout(statementTimeoutSeconds);
                    lock.setObject(1, jobId);
                    try (ResultSet rs = lock.executeQuery()) {
                        // A missing row cannot be locked, and nothing can complete it either
                        failedOrGone = !rs.next() || rs.getBoolean("is_deleted")
                                || JobStatus.FAILED.name().equals(rs.getString("status"));
                    }
                }
                if (failedOrGone) {
                    action.run();
                }
                c.commit();
                return failedOrGone;
            } catch (SQLException | RuntimeException e) {
                rollbackQuietly(c);
                throw e;
            } finally {
                c.setAutoCommit(true);
            }
        } catch (SQLException e) {
            throw SqlErrors.classify("locking job " + jobId, e);
        }
    }

    private static void rollbackQuietly(Connection c) {
        try {
            c.rollback();
        } catch (SQLException ignored) {
            // the connection is broken; closing it ends the transaction and releases the lock
        }
    }

    /**
     * Inserts a PENDING row. Idempotent: an existing row with this id is left as it is (a resubmitted job
     * must not reset one that is running or done).
     *
     * @throws IllegalArgumentException when voice id or key break the table's limits (1..128, 1..1024 chars)
     */
    @Override
    public void create(UUID jobId, String voiceId, String s3Key) {
        try {
            update("creating job " + jobId,
                    "INSERT INTO voice_processing_jobs (id, voice_id, s3_key) VALUES (?, ?, ?)"
                            + " ON CONFLICT (id) DO NOTHING",
                    jobId, voiceId, s3Key);
        } catch (IllegalStateException e) {
            if (e.getCause() instanceof SQLException sql && "23514".equals(sql.getSQLState())) {
                throw new IllegalArgumentException("job " + jobId + ": voice_id must be 1..128 and s3_key 1..1024 "
                        + "characters", e);
            }
            throw e;
        }
    }

    @Override
    public Optional<JobRecord> find(UUID jobId) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement read = c.prepareStatement(
                     "SELECT " + COLUMNS + " FROM voice_processing_jobs WHERE id = ?")) {
            read.setQueryTimeout(statementTimeoutSeconds);
            read.setObject(1, jobId);
            try (ResultSet rs = read.executeQuery()) {
                return rs.next() ? Optional.of(toRecord(rs)) : Optional.empty();
            }
        } catch (SQLException e) {
            throw SqlErrors.classify("reading job " + jobId, e);
        }
    }

    /**
     * Runs a transition {@code update} of job {@code jobId} (its last parameter) together with the insert of its
     * completion event, in one statement (docs/architecture.md §13, {@link JobEvents}); returns the rows moved.
     */
    private int withEvent(String action, String finalStatus, String update, Object... parameters) {
        UUID eventId = JobEvents.eventId((UUID) parameters[parameters.length - 1], finalStatus);
        Object[] all = java.util.Arrays.copyOf(parameters, parameters.length + 2);
        all[parameters.length] = eventId;
        all[parameters.length + 1] = eventId.toString();
        try (Connection c = dataSource.getConnection();
             PreparedStatement statement = c.prepareStatement(JobEvents.recorded(update, finalStatus))) {
            statement.setQueryTimeout(statementTimeoutSeconds);
            for (int i = 0; i < all.length; i++) {
                statement.setObject(i + 1, all[i]);
            }
            try (ResultSet rs = statement.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (SQLException e) {
            throw SqlErrors.classify(action, e);
        }
    }

    private int update(String action, String sql, Object... parameters) {
        try (Connection c = dataSource.getConnection(); PreparedStatement statement = c.prepareStatement(sql)) {
            statement.setQueryTimeout(statementTimeoutSeconds);
            for (int i = 0; i < parameters.length; i++) {
                statement.setObject(i + 1, parameters[i]);
            }
            return statement.executeUpdate();
        } catch (SQLException e) {
            throw SqlErrors.classify(action, e);
        }
    }

    private static JobRecord toRecord(ResultSet rs) throws SQLException {
        return new JobRecord(
                rs.getObject("id", UUID.class),
                rs.getString("voice_id"),
                rs.getString("s3_key"),
                JobStatus.valueOf(rs.getString("status")),
                rs.getInt("attempts"),
                rs.getString("result"),
                rs.getString("error"),
                rs.getBoolean("is_deleted"),
                rs.getObject("created_at", OffsetDateTime.class),
                rs.getObject("updated_at", OffsetDateTime.class),
                rs.getObject("started_at", OffsetDateTime.class),
                rs.getObject("finished_at", OffsetDateTime.class),
                Optional.ofNullable(rs.getString("se_mode")).map(SeMode::fromId),
                rs.getString("speech"));
    }

    /** Collapses whitespace runs (newlines included) and bounds the length. */
    static String oneLine(String error) {
        String line = error == null ? "unknown error" : error.replaceAll("\\s+", " ").strip();
        return line.length() <= MAX_ERROR_CHARS ? line : line.substring(0, MAX_ERROR_CHARS - 1) + "…";
    }
}
