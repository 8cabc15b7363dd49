package dev.timbre.blackbox;

import static org.junit.jupiter.api.Assertions.assertAll;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.timbre.testing.TestDatabase;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.parallel.Execution;
import org.junit.jupiter.api.parallel.ExecutionMode;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The command line as a script sees it, from outside: {@code ./timbre} child processes, their exit status, stdout
 * and stderr. README's contract: every command has {@code --help}; results on stdout (JSON where documented),
 * errors as one line on stderr; exit 0 success, 1 unexpected failure (a service is down), 2 usage error, 3 rejected
 * input (bad audio, checkpoint, configuration, unknown job).
 */
class CommandLineIT {

    private static final Path CONVERTER = Timbre.ROOT.resolve("infra/model/fixtures/converter");
    private static final Path BAD_CHECKPOINT = Timbre.ROOT.resolve("infra/model/fixtures/bad/missing_key");
    private static final Path WAV_A = Pipeline.AUDIO.resolve("voice_a_1.wav");
    private static final Path WAV_B = Pipeline.AUDIO.resolve("c07_5s_16000_pcm16_mono.wav");

    private static Path dir;
    private static Timbre timbre;
    /** Migrated in this JVM as set-up: these rows are about the commands, migrate's own run is PipelineIT's. */
    private static TestDatabase db;
    private static Path corrupt;
    private static Path silence;

    @BeforeAll
    static void start() throws IOException {
        dir = Timbre.outputDir("cli");
        timbre = new Timbre(dir);
        db = TestDatabase.create();
        corrupt = Pipeline.corruptWav(dir);
        silence = Pipeline.silentWav(dir);
        // The first launch after a build trains the AOT cache and says so on stderr, once per build. One run
        // here, before the concurrent rows, so each row below meets a built cache and must leave stderr empty.
        Timbre.Result first = timbre.run(Map.of(), "--help");
        assertEquals(0, first.exit(), first.describe());
    }

    @AfterAll
    static void stop() {
        if (db != null) {
            db.close();
        }
    }

    /** Every command's {@code --help}: exit 0, its usage on stdout, nothing on stderr, nothing started. */
    @ParameterizedTest(name = "timbre {0} --help")
    @Execution(ExecutionMode.CONCURRENT) // each row is its own process: two at a time (failsafe's junit settings)
    @MethodSource("commands")
    void everyCommandHasHelp(String command) {
        Timbre.Result r = command.isEmpty() ? timbre.run(Map.of(), "--help") : timbre.run(Map.of(), command, "--help");
        String usage = "Usage: timbre" + (command.isEmpty() ? "" : " " + command);
        assertAll(() -> assertEquals(0, r.exit(), r.describe()),
                () -> assertTrue(r.stdout().startsWith(usage), "starts with \"" + usage + "\": " + r.describe()),
                () -> assertEquals("", r.stderr(), r.describe()));
    }

    /** Every command README lists; {@code bench} and {@code chaos} are scripts, whose help the launcher prints. */
    static Stream<String> commands() {
        return Stream.of("", "demo", "extract", "worker", "submit", "status", "events", "similar", "migrate", "reconcile",
                "bridge", "bench", "chaos");
    }

    /**
     * The launcher inside a build ({@code TIMBRE_NO_BUILD=1}) never runs Maven: with nothing built in the folder
     * it names, it stops with one line naming what is missing, and builds nothing there.
     */
    @Test
    void theLauncherNeverBuildsWhenToldNotTo() {
        String folder = "target-nothing-built-" + ProcessHandle.current().pid();
        Timbre.Result r = timbre.run(Map.of("TIMBRE_BUILD_DIR", folder), "status", UUID.randomUUID().toString());
        assertAll(() -> assertEquals(1, r.exit(), r.describe()),
                () -> assertEquals(1, r.stderrLines().size(), "one line: " + r.describe()),
                () -> assertTrue(r.stderr().contains("cli/" + folder + "/classes is missing"), r.describe()),
                () -> assertTrue(!Files.exists(Timbre.ROOT.resolve("cli").resolve(folder)), "nothing built"));

        Timbre.Result bad = timbre.run(Map.of("TIMBRE_BUILD_DIR", "../elsewhere"), "status");
        assertAll(() -> assertEquals(3, bad.exit(), bad.describe()),
                () -> assertTrue(bad.stderr().contains("TIMBRE_BUILD_DIR"), bad.describe()));
    }

    /** One row of the exit-code table: why, the expected status, the environment, the arguments. */
    record Row(String why, int exit, Map<String, String> env, List<String> args, String stderrNames) {
        @Override
        public String toString() {
            return exit + ": " + why;
        }
    }

    static List<Row> exitCodes() {
        String dbDown = "jdbc:postgresql://127.0.0.1:" + closedPort() + "/timbre?connectTimeout=5";
        String s3Down = "http://127.0.0.1:" + closedPort();
        String sqsDown = "http://127.0.0.1:" + closedPort() + "/000000000000/jobs";
        // AWS_REGION: required against real AWS since the common module's rule (docs/architecture.md §8); the
        // configuration is read whole, so a command that only needs the database asks for it too
        Map<String, String> dbEnv = Timbre.env(db.env(), Map.of("AWS_REGION", "us-east-1"));
        Map<String, String> workerEnv = Timbre.env(dbEnv, Map.of("TIMBRE_S3_BUCKET", "timbre-uploads"));
        String unknownJob = UUID.randomUUID().toString();
        List<Row> rows = new ArrayList<>();
        // 2: usage errors, before anything is read or started
        rows.add(new Row("no command", 2, Map.of(), List.of(), null));
        rows.add(new Row("unknown command", 2, Map.of(), List.of("frobnicate"), "frobnicate"));
        rows.add(new Row("unknown option", 2, dbEnv, List.of("status", "--frobnicate", unknownJob), "--frobnicate"));
        rows.add(new Row("extract without --converter", 2, Map.of(), List.of("extract", WAV_A.toString()), "--converter"));
        rows.add(new Row("extract without files", 2, Map.of(), List.of("extract", "--mode", "extract-se", "--converter", CONVERTER.toString()), "FILE"));
        rows.add(new Row("submit without --voice", 2, Map.of(), List.of("submit", WAV_A.toString()), "--voice"));
        rows.add(new Row("status without a job id", 2, Map.of(), List.of("status"), "JOB_ID"));
        rows.add(new Row("similar --limit not a number", 2, Map.of(), List.of("similar", "alice", "--limit", "many"), "many"));
        rows.add(new Row("worker with an unknown option", 2, workerEnv, List.of("worker", "--frobnicate"), "--frobnicate"));
        rows.add(new Row("extract with an unknown --mode", 2, Map.of(), List.of("extract", "--mode", "vad",
                "--converter", CONVERTER.toString(), WAV_A.toString()), "--mode must be get-se or extract-se"));
        rows.add(new Row("submit with an unknown --mode", 2, Map.of(), List.of("submit", WAV_A.toString(), "--voice",
                "v", "--mode", "GET_SE"), "--mode must be get-se or extract-se"));
        rows.add(new Row("similar with an unknown --mode", 2, Map.of(), List.of("similar", "alice", "--mode", "x"),
                "--mode must be get-se or extract-se"));
        rows.add(new Row("migrate with an argument", 2, dbEnv, List.of("migrate", "now"), "now"));
        rows.add(new Row("bridge with an argument", 2, Map.of(), List.of("bridge", "--frobnicate"), "--frobnicate"));
        // 3 for the bridge too: a configuration error is rejected input
        rows.add(new Row("bridge without TIMBRE_AMQP_URL", 3, Map.of(), List.of("bridge"), "TIMBRE_AMQP_URL"));
        // 3: rejected input, one line naming what was wrong
        rows.add(new Row("extract: corrupt audio", 3, Map.of(), List.of("extract", "--mode", "extract-se", "--converter", CONVERTER.toString(),
                WAV_A.toString(), corrupt.toString()), corrupt.toString()));
        rows.add(new Row("extract: missing file", 3, Map.of(), List.of("extract", "--mode", "extract-se", "--converter", CONVERTER.toString(),
                "/nonexistent/x.wav"), "/nonexistent/x.wav"));
        rows.add(new Row("extract: bad checkpoint", 3, Map.of(), List.of("extract", "--mode", "extract-se", "--converter",
                BAD_CHECKPOINT.toString(), WAV_A.toString()), "ref_enc.gru.bias_hh_l0"));
        // get-se on silence: the one line of TooLittleSpeechException (passes once the get-se chain is built)
        rows.add(new Row("extract --mode get-se: too little speech", 3, Map.of(), List.of("extract", "--mode", "get-se",
                "--converter", CONVERTER.toString(), silence.toString()), "too little speech"));
        rows.add(new Row("status: not a job id", 3, dbEnv, List.of("status", "not-a-uuid"), "not-a-uuid"));
        rows.add(new Row("status: unknown job", 3, dbEnv, List.of("status", unknownJob), unknownJob));
        rows.add(new Row("status without TIMBRE_DB_URL", 3, Map.of(), List.of("status", unknownJob), "TIMBRE_DB_URL"));
        rows.add(new Row("migrate without TIMBRE_DB_URL", 3, Map.of(), List.of("migrate"), "TIMBRE_DB_URL"));
        rows.add(new Row("migrate: not a Postgres URL", 3, Map.of("TIMBRE_DB_URL", "jdbc:mysql://127.0.0.1/timbre",
                "TIMBRE_DB_USER", "timbre"), List.of("migrate"), "TIMBRE_DB_URL"));
        rows.add(new Row("submit: missing file", 3, workerEnv, List.of("submit", "/nonexistent/x.wav", "--voice", "v"),
                "/nonexistent/x.wav"));
        rows.add(new Row("submit without TIMBRE_S3_BUCKET", 3, dbEnv, List.of("submit", WAV_A.toString(), "--voice", "v"),
                "TIMBRE_S3_BUCKET"));
        rows.add(new Row("similar: voice without embeddings", 3, dbEnv, List.of("similar", "nobody"), "nobody"));
        rows.add(new Row("worker without TIMBRE_QUEUE_URL", 3, workerEnv, List.of("worker"), "TIMBRE_QUEUE_URL"));
        rows.add(new Row("worker: malformed TIMBRE_WORKER_THREADS", 3, Timbre.env(workerEnv, Map.of(
                "TIMBRE_QUEUE_URL", sqsDown, "TIMBRE_WORKER_THREADS", "many")), List.of("worker"), "TIMBRE_WORKER_THREADS"));
        rows.add(new Row("demo --batch-size 11", 3, Map.of(), List.of("demo", "--batch-size", "11"), "--batch-size"));
        // 1: a service is down
        rows.add(new Row("status: database down", 1, Map.of("TIMBRE_DB_URL", dbDown, "TIMBRE_DB_USER", "postgres"),
                List.of("status", unknownJob), null));
        rows.add(new Row("migrate: database down", 1, Map.of("TIMBRE_DB_URL", dbDown, "TIMBRE_DB_USER", "postgres"),
                List.of("migrate"), null));
        rows.add(new Row("similar: database down", 1, Map.of("TIMBRE_DB_URL", dbDown, "TIMBRE_DB_USER", "postgres",
                "AWS_REGION", "us-east-1"), List.of("similar", "alice"), null));
        rows.add(new Row("submit: S3 down", 1, Timbre.env(workerEnv, Map.of("AWS_ENDPOINT_URL_S3", s3Down,
                "AWS_ENDPOINT_URL_SQS", s3Down, "TIMBRE_QUEUE_URL", sqsDown, "AWS_REGION", "us-east-1",
                "AWS_ACCESS_KEY_ID", "timbre-local", "AWS_SECRET_ACCESS_KEY", "timbre-local-secret")),
                List.of("submit", WAV_A.toString(), "--voice", "v"), null));
        // 0
        rows.add(new Row("--version", 0, Map.of(), List.of("--version"), null));
        rows.add(new Row("help status", 0, Map.of(), List.of("help", "status"), null));
        return rows;
    }

    /**
     * Every documented exit status, each row its own process. Usage errors say what is wrong on stderr (picocli
     * adds the usage); rejected input and failures are exactly one line on stderr, naming the command; stdout is
     * empty whenever a command fails, so a script never reads half an answer.
     */
    @ParameterizedTest(name = "{0}")
    @Execution(ExecutionMode.CONCURRENT)
    @MethodSource("exitCodes")
    void exitCodes(Row row) {
        Timbre.Result r = timbre.run(row.env(), row.args().toArray(String[]::new));
        List<Executable> checks = new ArrayList<>();
        checks.add(() -> assertEquals(row.exit(), r.exit(), r.describe()));
        if (row.exit() != 0) {
            checks.add(() -> assertEquals("", r.stdout(), "nothing on stdout when a command fails: " + r.describe()));
            checks.add(() -> assertTrue(!r.stderr().isBlank(), "the reason on stderr: " + r.describe()));
        }
        if (row.exit() == 1 || row.exit() == 3) {
            checks.add(() -> assertEquals(1, r.stderrLines().size(), "one line on stderr: " + r.describe()));
            String command = row.args().get(0);
            checks.add(() -> assertTrue(r.stderr().startsWith("timbre " + command + ": "),
                    "names the command: " + r.describe()));
        }
        if (row.stderrNames() != null) {
            checks.add(() -> assertTrue(r.stderr().contains(row.stderrNames()),
                    "stderr names " + row.stderrNames() + ": " + r.describe()));
        }
        assertAll(checks);
    }

    /** {@code extract} piped into a JSON parser: exactly one JSON object per file on stdout, and nothing on stderr. */
    @Test
    @Execution(ExecutionMode.CONCURRENT)
    void extractPrintsOnlyJsonLinesOnStdout() {
        Timbre.Result r = timbre.run(Map.of(), "extract", "--mode", "extract-se", "--converter", CONVERTER.toString(), WAV_A.toString(),
                WAV_B.toString());
        assertEquals(0, r.exit(), r.describe());
        List<String> lines = r.stdoutLines();
        assertAll(() -> assertEquals(2, lines.size(), "two files, two lines: " + r.describe()),
                () -> assertEquals("", r.stderr(), "nothing on stderr: " + r.describe()));
        List<Path> files = List.of(WAV_A, WAV_B);
        for (int i = 0; i < lines.size(); i++) {
            JsonNode line = Pipeline.parse(lines.get(i), r);
            assertEquals(files.get(i).toString(), line.path("file").asText(), lines.get(i));
            assertEquals(256, line.path("embedding").size(), "256 floats");
            assertTrue(line.path("duration_s").asDouble() > 0, lines.get(i));
        }

        Timbre.Result mean = timbre.run(Map.of(), "extract", "--mode", "extract-se", "--converter", CONVERTER.toString(), "--mean",
                WAV_A.toString(), WAV_B.toString());
        assertEquals(0, mean.exit(), mean.describe());
        assertAll(() -> assertEquals(1, mean.stdoutLines().size(), "--mean: one line: " + mean.describe()),
                () -> assertEquals("", mean.stderr(), "nothing on stderr: " + mean.describe()));
        assertEquals(256, Pipeline.parse(mean.stdoutLines().get(0), mean).path("embedding").size());
    }

    /** A port nothing listens on: connections are refused at once. */
    private static int closedPort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
