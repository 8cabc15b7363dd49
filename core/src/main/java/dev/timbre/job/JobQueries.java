package dev.timbre.job;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import javax.sql.DataSource;

/** Read-only queries over the job table for operator commands ({@code ./timbre similar}). Thread-safe. */
public final class JobQueries {

    private final DataSource dataSource;

    public JobQueries(DataSource dataSource) {
        this.dataSource = dataSource;
    }

    /** The most recent completed, not deleted jobs of a voice, newest first. */
    public List<UUID> completedJobsOfVoice(String voiceId, int limit) {
        String sql = "SELECT id FROM voice_processing_jobs WHERE voice_id = ? AND status = 'COMPLETED' "
                + "AND is_deleted = false ORDER BY finished_at DESC NULLS LAST LIMIT ?";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setString(1, voiceId);
            ps.setInt(2, limit);
            List<UUID> ids = new ArrayList<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getObject(1, UUID.class));
                }
            }
            return ids;
        } catch (SQLException e) {
            throw new TransientJobException("reading the jobs of voice " + voiceId + " failed: " + e.getMessage(), e);
        }
    }

    /**
     * Of the given jobs, those that are COMPLETED and not deleted: the only jobs whose points a search may show
     * (a point can outlive its job for a moment, e.g. a job deleted after it completed).
     */
    public Set<UUID> completedAndNotDeleted(Collection<UUID> jobIds) {
        if (jobIds.isEmpty()) {
            return Set.of();
        }
        String sql = "SELECT id FROM voice_processing_jobs WHERE id = ANY (?) AND status = 'COMPLETED'"
                + " AND is_deleted = false";
        try (Connection c = dataSource.getConnection(); PreparedStatement ps = c.prepareStatement(sql)) {
            ps.setArray(1, c.createArrayOf("uuid", jobIds.toArray()));
            Set<UUID> ids = new HashSet<>();
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) {
                    ids.add(rs.getObject(1, UUID.class));
                }
            }
            return ids;
        } catch (SQLException e) {
            throw new TransientJobException("reading the status of " + jobIds.size() + " jobs failed: "
                    + e.getMessage(), e);
        }
    }
}
