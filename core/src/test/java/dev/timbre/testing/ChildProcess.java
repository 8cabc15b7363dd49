package dev.timbre.testing;

import dev.timbre.testsupport.ChildJvm;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A command run to its end as a child process, stdout and stderr kept apart (files, so a chatty child never
 * blocks on a full pipe): what a script or a log shipper gets from the process.
 */
public final class ChildProcess {

    /** What the process left: exit status, stdout, stderr. */
    public record Result(int exit, String stdout, String stderr) {

        /** stdout's lines, without empty ones. */
        public List<String> stdoutLines() {
            return stdout.lines().filter(l -> !l.isBlank()).toList();
        }

        /** stderr's lines, without empty ones. */
        public List<String> stderrLines() {
            return stderr.lines().filter(l -> !l.isBlank()).toList();
        }

        /** Everything, for assertion messages. */
        public String describe() {
            return "exit " + exit + "\n--- stdout:\n" + stdout + "--- stderr:\n" + stderr;
        }
    }

    private ChildProcess() {
    }

    /** The java command of this JVM with this JVM's (test) class path and the engine properties (ChildJvm's). */
    public static List<String> java(String mainClass, String... args) {
        return ChildJvm.main(mainClass).engineFlags().args(args).command();
    }

    /** The class path this JVM runs the tests with (surefire keeps it in its own property). */
    public static String testClassPath() {
        return ChildJvm.testClassPath();
    }

    public static Path javaHome() {
        return ChildJvm.javaHome();
    }

    /**
     * Runs {@code command} with this JVM's environment plus {@code env} (a null value removes the variable), in
     * {@code dir}, and waits for it at most {@code timeout}.
     */
    public static Result run(List<String> command, Map<String, String> env, Path dir, Duration timeout)
            throws IOException, InterruptedException {
        return finish(start(command, env, dir), timeout);
    }

    /** Starts {@code command} as {@link #run} does; {@link Started#finish} waits for it. */
    public static Started start(List<String> command, Map<String, String> env, Path dir) throws IOException {
        Path out = Files.createTempFile("child-stdout", ".txt");
        Path err = Files.createTempFile("child-stderr", ".txt");
        ProcessBuilder builder = new ProcessBuilder(command).directory(dir.toFile())
                .redirectOutput(out.toFile()).redirectError(err.toFile());
        env.forEach((k, v) -> {
            if (v == null) {
                builder.environment().remove(k);
            } else {
                builder.environment().put(k, v);
            }
        });
        return new Started(builder.start(), out, err);
    }

    /** A started child and the files its output goes to. */
    public record Started(Process process, Path stdout, Path stderr) {
    }

    public static Result finish(Started started, Duration timeout) throws IOException, InterruptedException {
        Process p = started.process();
        try {
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly().waitFor();
                throw new AssertionError("child process still running after " + timeout + "\n--- stdout:\n"
                        + Files.readString(started.stdout(), StandardCharsets.UTF_8) + "--- stderr:\n"
                        + Files.readString(started.stderr(), StandardCharsets.UTF_8));
            }
            return new Result(p.exitValue(), Files.readString(started.stdout(), StandardCharsets.UTF_8),
                    Files.readString(started.stderr(), StandardCharsets.UTF_8));
        } finally {
            Files.deleteIfExists(started.stdout());
            Files.deleteIfExists(started.stderr());
        }
    }
}
