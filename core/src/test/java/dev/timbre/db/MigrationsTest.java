package dev.timbre.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.zaxxer.hikari.HikariDataSource;
import dev.timbre.config.TimbreConfig;
import dev.timbre.testing.TestDatabase;
import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MigrationsTest {

    @Test
    void emptyDatabaseIsMigratedOnceAndThenLeftAlone() throws Exception {
        try (TestDatabase db = TestDatabase.createEmpty()) {
            assertEquals(3, Migrations.migrate(db.dataSource()), "first run applies V1, V2 and V3");
            assertEquals(0, Migrations.migrate(db.dataSource()), "second run finds the schema current");

            try (Connection c = db.dataSource().getConnection();
                 ResultSet rs = c.createStatement().executeQuery(
                         "SELECT version FROM flyway_schema_history WHERE success ORDER BY installed_rank")) {
                assertTrue(rs.next());
                assertEquals("1", rs.getString(1));
                assertTrue(rs.next());
                assertEquals("2", rs.getString(1));
                assertTrue(rs.next());
                assertEquals("3", rs.getString(1));
            }
        }
    }

    @Test
    void aDatabaseMigratedBeforeTheCommentOnlyEditsStillMigratesButOtherEditsFailValidation() throws Exception {
        try (TestDatabase db = TestDatabase.createEmpty()) {
            Migrations.migrate(db.dataSource());
            // given: the schema history as the files of an earlier release left it (their checksums before the
            // first comment line of V1 and V2 was rewritten)
            setChecksum(db, "1", -1366527592);
            setChecksum(db, "2", -544138544);

            // when / then: validation passes and the history now holds today's checksums
            assertEquals(0, Migrations.migrate(db.dataSource()));
            assertEquals(Migrations.COMMENT_ONLY_CHANGES.get("1")[1], checksum(db, "1"));
            assertEquals(Migrations.COMMENT_ONLY_CHANGES.get("2")[1], checksum(db, "2"));

            // and any other checksum (a real edit of an applied migration) still fails
            setChecksum(db, "1", 12345);
            IllegalStateException e = assertThrows(IllegalStateException.class,
                    () -> Migrations.migrate(db.dataSource()));
            assertTrue(e.getMessage().contains("checksum") || e.getMessage().contains("validation"), e.getMessage());
        }
    }

    private static void setChecksum(TestDatabase db, String version, int checksum) throws Exception {
        try (Connection c = db.dataSource().getConnection()) {
            c.createStatement().executeUpdate("UPDATE flyway_schema_history SET checksum = " + checksum
                    + " WHERE version = '" + version + "'");
        }
    }

    private static int checksum(TestDatabase db, String version) throws Exception {
        try (Connection c = db.dataSource().getConnection();
             ResultSet rs = c.createStatement().executeQuery(
                     "SELECT checksum FROM flyway_schema_history WHERE version = '" + version + "'")) {
            assertTrue(rs.next());
            return rs.getInt(1);
        }
    }

    @Test
    void everyMigrationInInfraDbIsPackagedOnTheClasspath() throws IOException {
        // Surefire runs in core/; the SQL source of truth is ../infra/db
        Path infraDb = Path.of("..", "infra", "db");
        List<String> sources;
        try (Stream<Path> files = Files.list(infraDb)) {
            sources = files.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".sql")).sorted().toList();
        }

        assertEquals(List.of("V1__voice_processing_jobs.sql", "V2__voice_embeddings.sql",
                "V3__job_events_outbox.sql"), sources);
        for (String name : sources) {
            assertNotNull(Migrations.class.getResource("/db/migration/" + name),
                    name + " must be packaged as classpath:db/migration/" + name);
        }
    }

    @Test
    void schemaEnforcesTheJobRules() {
        try (TestDatabase db = TestDatabase.create()) {
            IllegalStateException badStatus = assertThrows(IllegalStateException.class, () -> db.execute(
                    "INSERT INTO voice_processing_jobs (id, voice_id, s3_key, status)"
                            + " VALUES (gen_random_uuid(), 'v', 'k', 'DONE')"));
            assertTrue(badStatus.getCause().getMessage().contains("check constraint"), badStatus.getMessage());
            assertThrows(IllegalStateException.class, () -> db.execute(
                    "INSERT INTO voice_processing_jobs (id, voice_id, s3_key) VALUES (gen_random_uuid(), '', 'k')"));
        }
    }

    @Test
    void poolIsSizedToTheWorkersPlusSpares(@TempDir Path converter) {
        try (TestDatabase db = TestDatabase.createEmpty()) {
            TimbreConfig config = TimbreConfig.fromEnv(Map.of(
                    "TIMBRE_DB_URL", db.jdbcUrl(), "TIMBRE_DB_USER", db.user(), "TIMBRE_S3_BUCKET", "uploads",
                    "TIMBRE_CONVERTER_DIR", converter.toString(), "TIMBRE_WORKER_THREADS", "3",
                    "AWS_REGION", "eu-west-1"));

            try (HikariDataSource pool = DatabasePool.open(config)) {
                assertEquals(5, pool.getMaximumPoolSize());
                assertEquals(DatabasePool.CONNECTION_TIMEOUT.toMillis(), pool.getConnectionTimeout());
            }
        }
    }

    @Test
    void unreachableDatabaseFailsAtStartNotAtTheFirstJob() throws IOException {
        int closedPort;
        try (ServerSocket socket = new ServerSocket(0)) {
            closedPort = socket.getLocalPort();
        }
        long started = System.nanoTime();

        RuntimeException e = assertThrows(RuntimeException.class, () -> DatabasePool.open(
                "jdbc:postgresql://127.0.0.1:" + closedPort + "/none", "postgres", null, 2));

        long elapsedMs = (System.nanoTime() - started) / 1_000_000;
        assertTrue(e.getMessage().contains("Connection to 127.0.0.1:" + closedPort + " refused")
                || String.valueOf(e.getCause()).contains("refused"), e.toString());
        assertTrue(elapsedMs < 15_000, "failed after " + elapsedMs + " ms");
    }
}
