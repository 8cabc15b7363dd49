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
import org.flywaydb.core.Flyway;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MigrationsTest {

    @Test
    void emptyDatabaseIsMigratedOnceAndThenLeftAlone() throws Exception {
        try (TestDatabase db = TestDatabase.createEmpty()) {
            assertEquals(4, Migrations.migrate(db.dataSource()), "first run applies V1 to V4");
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
                assertTrue(rs.next());
                assertEquals("4", rs.getString(1));
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
                "V3__job_events_outbox.sql",
                "V4__embedding_mode.sql"), sources);
        for (String name : sources) {
            assertNotNull(Migrations.class.getResource("/db/migration/" + name),
                    name + " must be packaged as classpath:db/migration/" + name);
        }
    }

    @Test
    void v4GivesTheRowsOfADatabaseFromBeforeModesTheTruthfulExtractSeAndLeavesOpenJobsWithoutAMode()
            throws Exception {
        try (TestDatabase db = TestDatabase.createEmpty()) {
            // given: a database at V2 holding a completed, a pending and a failed job and a Postgres-store point
            Flyway.configure().dataSource(db.dataSource()).locations(Migrations.LOCATION).target("2").load()
                    .migrate();
            db.execute("INSERT INTO voice_processing_jobs (id, voice_id, s3_key, status, result) VALUES"
                    + " ('00000000-0000-0000-0000-000000000001', 'v', 'k1', 'COMPLETED', '{\"model\":\"m\"}'),"
                    + " ('00000000-0000-0000-0000-000000000002', 'v', 'k2', 'PENDING', NULL),"
                    + " ('00000000-0000-0000-0000-000000000003', 'v', 'k3', 'FAILED', NULL)");
            db.execute("INSERT INTO voice_embeddings (collection, point_id, voice_id, job_id, model, processed_at,"
                    + " duration_s, vector, norm) VALUES ('c', '00000000-0000-0000-0000-000000000001', 'v',"
                    + " '00000000-0000-0000-0000-000000000001', 'm', now(), 1.0, '{1,0}', 1.0)");

            // when
            assertEquals(2, Migrations.migrate(db.dataSource()), "V3 and V4 are left to apply");

            // then: the completed job and the point are whole-clip embeddings, which they are; open jobs get a
            // mode when they complete
            assertEquals(List.of("1|extract-se|null", "2|null|null", "3|null|null"), rows(db,
                    "SELECT right(id::text, 1) || '|' || coalesce(se_mode, 'null') || '|'"
                            + " || coalesce(speech::text, 'null') FROM voice_processing_jobs ORDER BY id"));
            assertEquals(List.of("extract-se"), rows(db, "SELECT se_mode FROM voice_embeddings"));
            // and the modes are checked
            assertThrows(IllegalStateException.class, () -> db.execute(
                    "UPDATE voice_processing_jobs SET se_mode = 'vad' WHERE voice_id = 'v'"));
            assertThrows(IllegalStateException.class, () -> db.execute(
                    "UPDATE voice_embeddings SET se_mode = 'GET_SE'"));
        }
    }

    private static List<String> rows(TestDatabase db, String sql) throws Exception {
        List<String> out = new java.util.ArrayList<>();
        try (Connection c = db.dataSource().getConnection(); ResultSet rs = c.createStatement().executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
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
