package dev.timbre.chaos;

import dev.timbre.testing.TestDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;

/**
 * Postgres faults on the run's own database only, the shared server kept up: its connections killed, or the database
 * closed to new connections. Done from the maintenance database, so closing ours does not lock the admin out.
 */
final class PostgresFaults {

    private final TestDatabase db;

    PostgresFaults(TestDatabase db) {
        this.db = db;
    }

    private Connection admin() throws SQLException {
        return DriverManager.getConnection(db.jdbcUrl().replace("/" + db.name(), "/postgres"), db.user(), null);
    }

    /** {@code pg_terminate_backend} on every connection of the database; returns how many there were. */
    int terminateBackends() throws SQLException {
        try (Connection c = admin(); PreparedStatement s = c.prepareStatement(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = ? AND pid <> pg_backend_pid()")) {
            s.setString(1, db.name());
            try (ResultSet r = s.executeQuery()) {
                return r.next() ? r.getInt(1) : 0;
            }
        }
    }

    /** {@code ALTER DATABASE … ALLOW_CONNECTIONS}. */
    void setAllowConnections(boolean allow) throws SQLException {
        try (Connection c = admin(); Statement s = c.createStatement()) {
            s.execute("ALTER DATABASE " + db.name() + " ALLOW_CONNECTIONS " + allow);
        }
    }
}
