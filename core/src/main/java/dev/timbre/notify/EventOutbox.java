package dev.timbre.notify;

import dev.timbre.job.SqlErrors;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.OffsetDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * The {@code job_events} outbox (docs/architecture.md §13, infra/db/V3): rows are inserted with the job transition
 * ({@link JobEvents}); this class claims unpublished rows under a lease, marks them published, or puts them back for
 * a later try.
 *
 * <p>Claiming is one statement: the oldest unpublished rows whose lease is free or expired, locked with
 * {@code FOR UPDATE SKIP LOCKED} and leased until {@code now() + lease}. Two workers claiming at once skip each
 * other's locked rows and, once committed, each other's leases, so they never hold the same row; a worker killed
 * while holding a lease leaves it to expire, and the next sweep takes the row. A lease that expires while its
 * holder is still sending means one more copy: delivery is at-least-once, and the event id is stable.
 *
 * <p>Thread-safe: holds only the data source.
 */
public final class EventOutbox {

    public static final Duration DEFAULT_LEASE = Duration.ofSeconds(30);

    private final DataSource dataSource;
    private final Duration lease;

    public EventOutbox(DataSource dataSource) {
        this(dataSource, DEFAULT_LEASE);
    }

    public EventOutbox(DataSource dataSource, Duration lease) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.lease = Objects.requireNonNull(lease, "lease");
    }

    /** Claims up to {@code limit} unpublished rows, oldest first, leasing them to this caller. */
    public List<OutboxEvent> claim(int limit) {
        String sql = "UPDATE job_events SET leased_until = now() + make_interval(secs => ?),"
                + " publish_attempts = publish_attempts + 1"
                + " WHERE event_id IN (SELECT event_id FROM job_events"
                + "   WHERE published_at IS NULL AND (leased_until IS NULL OR leased_until <= now())"
                + "   ORDER BY created_at LIMIT ? FOR UPDATE SKIP LOCKED)"
                + " RETURNING event_id, job_id, detail_type, detail::text AS detail, created_at, publish_attempts";
        try (Connection c = dataSource.getConnection(); PreparedStatement claim = c.prepareStatement(sql)) {
            claim.setQueryTimeout(10);
            claim.setDouble(1, lease.toMillis() / 1000.0);
            claim.setInt(2, limit);
            List<OutboxEvent> events = new ArrayList<>();
            try (ResultSet rs = claim.executeQuery()) {
                while (rs.next()) {
                    events.add(new OutboxEvent(rs.getObject("event_id", UUID.class), rs.getObject("job_id", UUID.class),
                            rs.getString("detail_type"), rs.getString("detail"),
                            rs.getObject("created_at", OffsetDateTime.class).toInstant(),
                            rs.getInt("publish_attempts")));
                }
            }
            // RETURNING keeps no order; publish oldest first all the same
            events.sort(java.util.Comparator.comparing(OutboxEvent::createdAt));
            return events;
        } catch (SQLException e) {
            throw SqlErrors.classify("claiming events", e);
        }
    }

    /** Marks these events published and frees their lease. Kept rows are purged later (docs/operations.md). */
    public void markPublished(Collection<UUID> eventIds) {
        if (eventIds.isEmpty()) {
            return;
        }
        try (Connection c = dataSource.getConnection(); PreparedStatement mark = c.prepareStatement(
                "UPDATE job_events SET published_at = now(), leased_until = NULL, last_error = NULL"
                        + " WHERE event_id = ANY (?)")) {
            mark.setQueryTimeout(10);
            Array ids = c.createArrayOf("uuid", eventIds.toArray());
            mark.setArray(1, ids);
            mark.executeUpdate();
        } catch (SQLException e) {
            throw SqlErrors.classify("marking events published", e);
        }
    }

    /** Puts events back for another try after {@code retryIn}, noting why they failed. */
    public void retryLater(Map<UUID, String> errors, Duration retryIn) {
        if (errors.isEmpty()) {
            return;
        }
        try (Connection c = dataSource.getConnection(); PreparedStatement release = c.prepareStatement(
                "UPDATE job_events SET leased_until = now() + make_interval(secs => ?), last_error = ?"
                        + " WHERE event_id = ? AND published_at IS NULL")) {
            for (Map.Entry<UUID, String> e : errors.entrySet()) {
                release.setDouble(1, retryIn.toMillis() / 1000.0);
                release.setString(2, e.getValue() == null ? "unknown" : truncate(e.getValue()));
                release.setObject(3, e.getKey());
                release.addBatch();
            }
            release.setQueryTimeout(10);
            release.executeBatch();
        } catch (SQLException e) {
            throw SqlErrors.classify("releasing events", e);
        }
    }

    /** Age of the oldest unpublished event, empty when everything is published: the outbox alarm's metric. */
    public Optional<Duration> oldestUnpublishedAge() {
        try (Connection c = dataSource.getConnection(); PreparedStatement read = c.prepareStatement(
                "SELECT extract(epoch FROM now() - min(created_at)) FROM job_events WHERE published_at IS NULL")) {
            read.setQueryTimeout(10);
            try (ResultSet rs = read.executeQuery()) {
                rs.next();
                double seconds = rs.getDouble(1);
                return rs.wasNull() ? Optional.empty() : Optional.of(Duration.ofMillis((long) (seconds * 1000)));
            }
        } catch (SQLException e) {
            throw SqlErrors.classify("reading the outbox age", e);
        }
    }

    private static String truncate(String error) {
        String line = error.replaceAll("\\s+", " ").strip();
        return line.length() <= 1000 ? line : line.substring(0, 999) + "…";
    }
}
