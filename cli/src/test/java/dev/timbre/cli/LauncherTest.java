package dev.timbre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.pipeline.PipelineHarness;
import dev.timbre.testing.ChildProcess;
import dev.timbre.testing.TestDatabase;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code ./timbre} as a script runs it: the launcher at the repository root, in a process of its own, stdout and
 * stderr apart. The launcher runs on this build's class path ({@code TIMBRE_CLASSPATH}) instead of building
 * cli/target, so what is tested is its JVM options and environment with the classes under test.
 */
class LauncherTest {

    private static final Path REPO = Path.of(System.getProperty("user.dir")).resolve("..").normalize();
    private static final Path CONVERTER = REPO.resolve("infra/model/fixtures/converter");
    private static final Duration LIMIT = Duration.ofMinutes(2);
    private static final ObjectMapper JSON = new ObjectMapper();

    static List<String> command(String... args) {
        List<String> command = new ArrayList<>(List.of("bash", REPO.resolve("timbre").toString()));
        command.addAll(List.of(args));
        return command;
    }

    static Map<String, String> env(Map<String, String> extra) {
        Map<String, String> env = new HashMap<>(extra);
        env.put("TIMBRE_CLASSPATH", ChildProcess.testClassPath());
        env.put("JAVA_HOME", ChildProcess.javaHome().toString());
        return env;
    }

    static ChildProcess.Result timbre(Map<String, String> extraEnv, String... args) throws Exception {
        return ChildProcess.run(command(args), env(extraEnv), REPO, LIMIT);
    }

    @Nested
    class Extract {

        @Test
        void isAFilter_exactlyOneJsonLinePerFileOnStdoutAndNothingOnStderr(@TempDir Path tmp) throws Exception {
            Path a = wav(tmp, "a.wav", 11);
            Path b = wav(tmp, "b.wav", 12);

            ChildProcess.Result r = timbre(Map.of(), "extract", "--mode", "extract-se", "--converter", CONVERTER.toString(), a.toString(),
                    b.toString());

            assertEquals(0, r.exit(), r::describe);
            assertEquals("", r.stderr(), "nothing on stderr (no logs, no native warnings): " + r.describe());
            List<String> lines = r.stdout().lines().toList();
            assertEquals(2, lines.size(), r::describe);
            assertEmbeddingLine(lines.get(0), a);
            assertEmbeddingLine(lines.get(1), b);
        }

        @Test
        void verboseLogsProgressToStderrAndLeavesStdoutAlone(@TempDir Path tmp) throws Exception {
            Path a = wav(tmp, "a.wav", 13);

            ChildProcess.Result r = timbre(Map.of(), "extract", "--mode", "extract-se", "--verbose", "--converter", CONVERTER.toString(),
                    a.toString());

            assertEquals(0, r.exit(), r::describe);
            assertEquals(1, r.stdout().lines().count(), r::describe);
            assertEmbeddingLine(r.stdout().strip(), a);
            assertTrue(r.stderr().contains("loaded converter checkpoint"), r::describe);
            assertTrue(r.stderr().contains("native log level=ERROR"), "the launcher's TORCH_CPP_LOG_LEVEL: "
                    + r.describe());
        }

        @Test
        void rejectedAudioIsOneLineOnStderrExitThreeAndNothingOnStdout(@TempDir Path tmp) throws Exception {
            Path good = wav(tmp, "good.wav", 14);
            Path bad = tmp.resolve("bad.wav");
            Files.write(bad, new byte[] {'R', 'I', 'F', 'F', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});

            ChildProcess.Result r = timbre(Map.of(), "extract", "--mode", "extract-se", "--converter", CONVERTER.toString(), good.toString(),
                    bad.toString());

            assertEquals(ExitCodes.BAD_INPUT, r.exit(), r::describe);
            assertEquals("", r.stdout(), "no half answer: " + r.describe());
            assertEquals(1, r.stderrLines().size(), r::describe);
            assertTrue(r.stderr().startsWith("timbre extract: " + bad), r::describe);
        }

        @Test
        void aMissingArgumentIsAUsageErrorOnStderr() throws Exception {
            ChildProcess.Result r = timbre(Map.of(), "extract", "--mode", "extract-se", "--converter", CONVERTER.toString());

            assertEquals(ExitCodes.USAGE, r.exit(), r::describe);
            assertEquals("", r.stdout(), r::describe);
            assertTrue(r.stderr().startsWith("Missing required parameter: 'FILE'"), r::describe);
        }
    }

    @Test
    void theWorkerRejectsABadConfigurationWithExitThreeAndOneLineNamingTheVariable() throws Exception {
        ChildProcess.Result r = timbre(Map.of("TIMBRE_MAX_RECEIVES", "many"), "worker", "--health-port", "0");

        assertEquals(ExitCodes.BAD_INPUT, r.exit(), r::describe);
        assertEquals(1, r.stderrLines().size(), r::describe);
        assertTrue(r.stderr().startsWith("timbre worker: ") && r.stderr().contains("TIMBRE_"), r::describe);
    }

    @Nested
    class Migrate {

        @Test
        void migratesANeverMigratedDatabaseAndASecondRunFindsNothingToDo() throws Exception {
            try (TestDatabase db = TestDatabase.createEmpty()) {
                ChildProcess.Result first = timbre(db.env(), "migrate");

                assertEquals(0, first.exit(), first::describe);
                assertEquals("migrations applied: " + migrationCount(), first.stdout().strip(), first::describe);
                assertEquals("", first.stderr(), first::describe);
                assertSchemaComplete(db);

                ChildProcess.Result second = timbre(db.env(), "migrate");

                assertEquals(0, second.exit(), second::describe);
                assertEquals("migrations applied: 0", second.stdout().strip(), second::describe);
                assertSchemaComplete(db);
            }
        }

        @Test
        void twoMigrationsAtOnceOnANeverMigratedDatabaseBothSucceed() throws Exception {
            try (TestDatabase db = TestDatabase.createEmpty()) {
                ChildProcess.Started one = ChildProcess.start(command("migrate"), env(db.env()), REPO);
                ChildProcess.Started two = ChildProcess.start(command("migrate"), env(db.env()), REPO);
                ChildProcess.Result r1 = ChildProcess.finish(one, LIMIT);
                ChildProcess.Result r2 = ChildProcess.finish(two, LIMIT);

                assertEquals(0, r1.exit(), r1::describe);
                assertEquals(0, r2.exit(), r2::describe);
                // Flyway's advisory lock lets one apply everything; the other then finds it applied
                assertEquals(migrationCount(), applied(r1) + applied(r2), r1.describe() + "\n" + r2.describe());
                assertSchemaComplete(db);
            }
        }

        private static int applied(ChildProcess.Result r) {
            String out = r.stdout().strip();
            assertTrue(out.startsWith("migrations applied: "), r::describe);
            return Integer.parseInt(out.substring("migrations applied: ".length()));
        }

        private static long migrationCount() throws IOException {
            try (Stream<Path> files = Files.list(REPO.resolve("infra/db"))) {
                return files.filter(f -> f.getFileName().toString().matches("V\\d+__.*\\.sql")).count();
            }
        }

        private static void assertSchemaComplete(TestDatabase db) throws Exception {
            try (Connection c = db.dataSource().getConnection(); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FILTER (WHERE success), count(*), "
                         + "to_regclass('public.voice_processing_jobs') IS NOT NULL "
                         + "FROM flyway_schema_history WHERE version IS NOT NULL")) {
                rs.next();
                assertEquals(migrationCount(), rs.getLong(1), "every migration applied once, successfully");
                assertEquals(migrationCount(), rs.getLong(2), "and none twice");
                assertTrue(rs.getBoolean(3), "the jobs table exists");
            }
        }
    }

    /**
     * The JDK 25 AOT cache: on the packaged layout (cli's jar + lib/*, as {@code ./timbre} runs without
     * TIMBRE_CLASSPATH) the first run trains and writes it, and the next run maps its classes from it instead of
     * loading them from the jars. Needs the packaged cli (failsafe, after package).
     */
    @Nested
    class AotCache {

        @Test
        void theFirstRunWritesTheCacheAndTheNextRunLoadsItsClassesFromIt(@TempDir Path tmp) throws Exception {
            // the build folder of this test run: test-classes' parent (target, or -Dtimbre.build.dir's)
            Path build = Path.of(LauncherTest.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .getParent();
            boolean packaged;
            try (Stream<Path> jars = Files.list(build)) {
                packaged = Files.isDirectory(build.resolve("lib"))
                        && jars.anyMatch(p -> p.getFileName().toString().matches("timbre-cli-.*(?<!-tests)\\.jar"));
            }
            Assumptions.assumeTrue(packaged, () -> {
                System.out.println("SKIPPED LauncherTest.AotCache: cli is not packaged in " + build
                        + " (run in verify, after package)");
                return "cli not packaged";
            });
            Path aot = tmp.resolve("timbre.aot");
            Path loaded = tmp.resolve("class-load.txt");
            Path a = wav(tmp, "a.wav", 21);
            Map<String, String> env = new HashMap<>();
            env.put("TIMBRE_CLASSPATH", null);
            env.put("TIMBRE_NO_BUILD", "1");
            env.put("TIMBRE_BUILD_DIR", build.getFileName().toString());
            env.put("TIMBRE_AOT_FILE", aot.toString());
            env.put("JAVA_HOME", ChildProcess.javaHome().toString());

            ChildProcess.Result first = ChildProcess.run(command("extract", "--mode", "extract-se", "--converter", CONVERTER.toString(),
                    a.toString()), env, REPO, LIMIT);
            assertEquals(0, first.exit(), first::describe);
            assertTrue(Files.size(aot) > 1_000_000, "the cache is written: " + aot + " " + first.describe());
            assertEmbeddingLine(first.stdout().strip(), a);

            env.put("JAVA_TOOL_OPTIONS", "-Xlog:class+load=info:file=" + loaded);
            ChildProcess.Result second = ChildProcess.run(command("extract", "--mode", "extract-se", "--converter", CONVERTER.toString(),
                    a.toString()), env, REPO, LIMIT);
            assertEquals(0, second.exit(), second::describe);
            assertEquals(first.stdout(), second.stdout(), "the same embedding with the cache");
            List<String> lines = Files.readAllLines(loaded);
            long shared = lines.stream().filter(l -> l.contains("source: shared objects file")).count();
            assertTrue(lines.stream().anyMatch(l -> l.contains(" dev.timbre.cli.TimbreCli source: shared objects file")),
                    "the launcher's own main class comes from the cache");
            assertTrue(shared > lines.size() / 2, shared + " of " + lines.size() + " classes from the cache");
        }
    }

    private static Path wav(Path dir, String name, int seed) throws IOException {
        Path file = dir.resolve(name);
        Files.write(file, PipelineHarness.voiceWav(seed, 1.0));
        return file;
    }

    private static void assertEmbeddingLine(String line, Path file) throws IOException {
        JsonNode json = JSON.readTree(line);
        assertEquals(file.toString(), json.path("file").asText(), line);
        assertEquals(256, json.path("embedding").size(), line);
    }
}
