package dev.timbre.db;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.Map;
import javax.sql.DataSource;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.FlywayException;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the versioned schema migrations (docs/architecture.md §4). The SQL lives in {@code infra/db/} and is packaged into
 * the jar as {@code classpath:db/migration}, so a built jar migrates without the source tree.
 *
 * <p>Called by {@code ./timbre migrate}, the local demo and tests; never implicitly at Lambda cold start, where
 * concurrent containers would race for the schema lock and every cold start would pay for the check.
 */
public final class Migrations {

    /** Where the build puts {@code infra/db/*.sql} (see the {@code <resources>} entry of core/pom.xml). */
    public static final String LOCATION = "classpath:db/migration";

    /**
     * Connections Flyway holds at once: its main connection (which also takes the advisory lock) and a second
     * one for the migrations and the schema history table. A pool of one deadlocks on a new database until the
     * pool's timeout ("Connection is not available ... total=1, active=1"), when the history table is created.
     */
    public static final int CONNECTIONS = 2;

    private static final Logger log = LoggerFactory.getLogger(Migrations.class);

    /**
     * Applied migrations whose file changed in a comment only, by version: the checksum Flyway stored for the old
     * file → the checksum of today's. The first comment lines of V1 and V2 once cited an outside design note; they
     * now cite docs/architecture.md. Flyway's checksum covers comments, so without this every database migrated
     * before would fail validation. Only these exact old values are rewritten: any other edit still fails.
     */
    static final Map<String, int[]> COMMENT_ONLY_CHANGES = Map.of(
            "1", new int[] {-1366527592, -1697134576},
            "2", new int[] {-544138544, 626862445});

    private Migrations() {
    }

    /**
     * Brings the schema behind {@code dataSource} up to the newest migration. Safe to call concurrently from
     * several processes: Flyway serialises them with a Postgres advisory lock. A pooled {@code dataSource} must
     * allow at least {@link #CONNECTIONS} connections.
     *
     * @return how many migrations this call applied (0 when the schema was current)
     * @throws IllegalStateException when a migration fails or an applied one was changed since; the message
     *                               names the migration
     */
    public static int migrate(DataSource dataSource) {
        Flyway flyway = Flyway.configure()
                .dataSource(dataSource)
                .locations(LOCATION)
                // A misnamed file in infra/db/ fails loudly instead of being skipped; an applied script edited later
                // fails Flyway's checksum validation (validateOnMigrate, on by default)
                .validateMigrationNaming(true)
                .load();
        try {
            acceptCommentOnlyChanges(dataSource, flyway.getConfiguration().getTable());
            MigrateResult result = flyway.migrate();
            log.info("database schema migrated: applied={} version={}", result.migrationsExecuted,
                    result.targetSchemaVersion == null ? result.initialSchemaVersion : result.targetSchemaVersion);
            return result.migrationsExecuted;
        } catch (FlywayException e) {
            throw new IllegalStateException("database migration failed: " + e.getMessage(), e);
        }
    }

    /** Rewrites the stored checksums of {@link #COMMENT_ONLY_CHANGES} (idempotent; nothing on a new database). */
    private static void acceptCommentOnlyChanges(DataSource dataSource, String historyTable) {
        try (Connection c = dataSource.getConnection()) {
            try (ResultSet tables = c.getMetaData().getTables(null, c.getSchema(), historyTable, null)) {
                if (!tables.next()) {
                    return; // a new database: Flyway creates the history with today's checksums
                }
            }
            String sql = "UPDATE \"" + historyTable.replace("\"", "\"\"")
                    + "\" SET checksum = ? WHERE version = ? AND checksum = ?";
            try (PreparedStatement update = c.prepareStatement(sql)) {
                for (Map.Entry<String, int[]> change : COMMENT_ONLY_CHANGES.entrySet()) {
                    update.setInt(1, change.getValue()[1]);
                    update.setString(2, change.getKey());
                    update.setInt(3, change.getValue()[0]);
                    if (update.executeUpdate() > 0) {
                        log.info("schema history: V{} changed in a comment only; stored checksum updated",
                                change.getKey());
                    }
                }
            }
        } catch (SQLException e) {
            throw new IllegalStateException("database migration failed: reading the schema history: "
                    + e.getMessage(), e);
        }
    }
}
