package dev.timbre.store;

import dev.timbre.job.SqlErrors;
import dev.timbre.tone.SeMode;
import java.sql.Array;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Timestamp;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * {@link EmbeddingStore} on the {@code voice_embeddings} table (migration V2): the embedded default when no
 * Qdrant URL is configured (docs/architecture.md §5). Same contract as the Qdrant store: point id = job id (an upsert of the
 * same id overwrites), cosine similarity best first, rows scoped by collection name.
 *
 * <p>Nearest-neighbour search is exact: a sequential scan computing one dot product per row in SQL, with each
 * row's norm stored at write time. That is fine for the thousands of voices of a local run or a small
 * deployment; beyond that, configure Qdrant.
 *
 * <p>Thread-safe; borrows one pooled connection per call. Transient database faults are
 * {@link dev.timbre.job.TransientJobException}. {@link #close()} does nothing: the data source belongs to the
 * caller.
 */
public final class PostgresEmbeddingStore implements EmbeddingStore {

    /** Bound of one statement (driver-side cancel, SQLSTATE 57014, transient); a search scans the table. */
    static final int STATEMENT_TIMEOUT_SECONDS = 15;

    private final DataSource dataSource;
    private final String collection;
    private final int dimension;

    public PostgresEmbeddingStore(DataSource dataSource, String collection, int dimension) {
        this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
        this.collection = Objects.requireNonNull(collection, "collection");
        if (dimension < 1) {
            throw new IllegalArgumentException("dimension must be at least 1, was " + dimension);
        }
        this.dimension = dimension;
    }

    /**
     * Checks that the table exists. It is created by the migrations ({@code ./timbre migrate}), never here: the
     * schema has one owner.
     *
     * @throws IllegalStateException when the migrations have not been applied
     */
    @Override
    public void ensureReady() {
        try (Connection c = dataSource.getConnection();
             ResultSet rs = c.createStatement().executeQuery("SELECT to_regclass('voice_embeddings') IS NOT NULL")) {
            rs.next();
            if (!rs.getBoolean(1)) {
                throw new IllegalStateException("table voice_embeddings is missing: run ./timbre migrate");
            }
        } catch (SQLException e) {
            throw SqlErrors.classify("checking the embeddings table", e);
        }
    }

    @Override
    public void upsert(StoredEmbedding embedding) {
        requireDimension(embedding.vector());
        try (Connection c = dataSource.getConnection();
             PreparedStatement upsert = c.prepareStatement(
                     "INSERT INTO voice_embeddings"
                             + " (collection, point_id, voice_id, job_id, model, processed_at, duration_s, vector, norm,"
                             + " se_mode) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                             + " ON CONFLICT (collection, point_id) DO UPDATE SET voice_id = excluded.voice_id,"
                             + " job_id = excluded.job_id, model = excluded.model,"
                             + " processed_at = excluded.processed_at, duration_s = excluded.duration_s,"
                             + " vector = excluded.vector, norm = excluded.norm, se_mode = excluded.se_mode")) {
            upsert.setQueryTimeout(STATEMENT_TIMEOUT_SECONDS);
            upsert.setString(1, collection);
            upsert.setObject(2, embedding.jobId());
            upsert.setString(3, embedding.voiceId());
            upsert.setObject(4, embedding.jobId());
            upsert.setString(5, embedding.model());
            upsert.setTimestamp(6, Timestamp.from(embedding.processedAt()));
            upsert.setDouble(7, embedding.durationSeconds());
            upsert.setArray(8, realArray(c, embedding.vector()));
            upsert.setDouble(9, norm(embedding.vector()));
            upsert.setString(10, embedding.seMode().id());
            upsert.executeUpdate();
        } catch (SQLException e) {
            throw SqlErrors.classify("writing embedding " + embedding.jobId(), e);
        }
    }

    @Override
    public Optional<StoredEmbedding> get(UUID pointId) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement read = c.prepareStatement(
                     "SELECT voice_id, model, processed_at, duration_s, vector, se_mode FROM voice_embeddings"
                             + " WHERE collection = ? AND point_id = ?")) {
            read.setQueryTimeout(STATEMENT_TIMEOUT_SECONDS);
            read.setString(1, collection);
            read.setObject(2, pointId);
            try (ResultSet rs = read.executeQuery()) {
                if (!rs.next()) {
                    return Optional.empty();
                }
                Float[] boxed = (Float[]) rs.getArray("vector").getArray();
                float[] vector = new float[boxed.length];
                for (int i = 0; i < vector.length; i++) {
                    vector[i] = boxed[i];
                }
                return Optional.of(new StoredEmbedding(pointId, rs.getString("voice_id"), vector,
                        rs.getString("model"), rs.getTimestamp("processed_at").toInstant(),
                        rs.getDouble("duration_s"), SeMode.fromId(rs.getString("se_mode"))));
            }
        } catch (SQLException e) {
            throw SqlErrors.classify("reading embedding " + pointId, e);
        }
    }

    @Override
    public void delete(UUID pointId) {
        try (Connection c = dataSource.getConnection();
             PreparedStatement delete = c.prepareStatement(
                     "DELETE FROM voice_embeddings WHERE collection = ? AND point_id = ?")) {
            delete.setQueryTimeout(STATEMENT_TIMEOUT_SECONDS);
            delete.setString(1, collection);
            delete.setObject(2, pointId);
            delete.executeUpdate();
        } catch (SQLException e) {
            throw SqlErrors.classify("deleting embedding " + pointId, e);
        }
    }

    /**
     * Exact cosine similarity against every point of the collection in {@code mode}; ties by point id for a stable
     * order. Rows from before V4 carry {@code extract-se}, set by the migration.
     */
    @Override
    public List<Neighbour> nearest(float[] vector, int k, SeMode mode) {
        requireDimension(vector);
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, was " + k);
        }
        double queryNorm = norm(vector);
        if (queryNorm == 0) {
            throw new IllegalArgumentException("cosine similarity is undefined for a zero vector");
        }
        try (Connection c = dataSource.getConnection();
             PreparedStatement search = c.prepareStatement(
                     "SELECT point_id, voice_id,"
                             + " (SELECT sum(a::double precision * b) FROM unnest(vector, ?::real[]) AS t(a, b))"
                             + "   / (norm * ?) AS score"
                             + " FROM voice_embeddings WHERE collection = ? AND se_mode = ? AND norm > 0"
                             + " ORDER BY score DESC, point_id LIMIT ?")) {
            search.setQueryTimeout(STATEMENT_TIMEOUT_SECONDS);
            search.setArray(1, realArray(c, vector));
            search.setDouble(2, queryNorm);
            search.setString(3, collection);
            search.setString(4, mode.id());
            search.setInt(5, k);
            List<Neighbour> neighbours = new ArrayList<>();
            try (ResultSet rs = search.executeQuery()) {
                while (rs.next()) {
                    neighbours.add(new Neighbour(rs.getObject("point_id", UUID.class), rs.getString("voice_id"),
                            rs.getDouble("score")));
                }
            }
            return neighbours;
        } catch (SQLException e) {
            throw SqlErrors.classify("searching " + collection, e);
        }
    }

    @Override
    public String collection() {
        return "postgres:" + collection;
    }

    @Override
    public void close() {
        // the data source is the caller's
    }

    private void requireDimension(float[] vector) {
        if (vector.length != dimension) {
            throw new IllegalArgumentException("vector has " + vector.length + " dimensions, the collection "
                    + collection + " " + dimension);
        }
    }

    private static Array realArray(Connection c, float[] vector) throws SQLException {
        Float[] boxed = new Float[vector.length];
        for (int i = 0; i < vector.length; i++) {
            if (!Float.isFinite(vector[i])) {
                throw new IllegalArgumentException("vector holds a non-finite value at index " + i);
            }
            boxed[i] = vector[i];
        }
        return c.createArrayOf("float4", boxed);
    }

    private static double norm(float[] vector) {
        double sum = 0;
        for (float v : vector) {
            sum += (double) v * v;
        }
        return Math.sqrt(sum);
    }
}
