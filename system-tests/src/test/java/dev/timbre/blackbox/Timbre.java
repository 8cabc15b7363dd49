package dev.timbre.blackbox;

import java.io.File;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@code ./timbre} as a user runs it: a child process of the repository's launcher, in the repository root, with
 * only the environment a user would set. Nothing of Timbre runs in this JVM.
 *
 * <p>The launcher is told not to build ({@code TIMBRE_NO_BUILD=1}, a documented launcher variable): the Maven build
 * running this suite has just packaged cli and bridge, and a Maven inside it would rebuild the tree under
 * test. {@code TIMBRE_BUILD_DIR} follows the build's {@code -Dtimbre.build.dir}. The developer's own
 * {@code TIMBRE_*} and {@code AWS_*} variables are dropped so a shell's settings never leak into a run.
 */
final class Timbre {

    /** The repository root: where the launcher lives and where a user runs it. */
    static final Path ROOT = Path.of(System.getProperty("timbre.root", "..")).toAbsolutePath().normalize();
    static final Path LAUNCHER = ROOT.resolve("timbre");
    /** Bounds a hung command only; no assertion depends on how fast a command is. */
    static final Duration COMMAND_TIMEOUT = Duration.ofMinutes(3);

    private static final AtomicInteger RUNS = new AtomicInteger();

    private final Path outputDir;

    /** @param outputDir where each run's stdout and stderr files go (kept for the failure report) */
    Timbre(Path outputDir) {
        this.outputDir = outputDir;
    }

    /** One finished command: its exit status and what it wrote, as text. */
    record Result(List<String> command, int exit, String stdout, String stderr) {

        List<String> stdoutLines() {
            return stdout.lines().toList();
        }

        List<String> stderrLines() {
            return stderr.lines().toList();
        }

        /** Everything needed to see why an assertion on this run failed. */
        String describe() {
            return String.join(" ", command) + " exited " + exit + "\n--- stdout ---\n" + clip(stdout)
                    + "\n--- stderr ---\n" + clip(stderr);
        }

        private static String clip(String s) {
            return s.length() <= 4000 ? s : s.substring(0, 4000) + "... (" + s.length() + " chars)";
        }
    }

    /** Runs {@code ./timbre args...} to the end with {@code env} added to the user's environment. */
    Result run(Map<String, String> env, String... args) {
        int n = RUNS.incrementAndGet();
        String name = n + "-" + (args.length == 0 ? "none" : args[0].replaceAll("[^a-z-]", ""));
        Path out = outputDir.resolve(name + ".out");
        Path err = outputDir.resolve(name + ".err");
        Process p = start(env, out, err, args);
        try {
            if (!p.waitFor(COMMAND_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                throw new AssertionError(commandLine(args) + " did not end within " + COMMAND_TIMEOUT.toSeconds()
                        + " s\n--- stdout ---\n" + read(out) + "\n--- stderr ---\n" + read(err));
            }
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for " + commandLine(args), e);
        }
        return new Result(commandLine(args), p.exitValue(), read(out), read(err));
    }

    /**
     * Starts {@code ./timbre args...} (e.g. the worker) with stdout and stderr to files; stdin is empty. The
     * launcher {@code exec}s java, so {@link Process#destroy()} is SIGTERM to the JVM, as {@code docker stop} or ECS
     * sends it.
     */
    Process start(Map<String, String> env, Path stdout, Path stderr, String... args) {
        ProcessBuilder builder = new ProcessBuilder(commandLine(args))
                .directory(ROOT.toFile())
                .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")))
                .redirectOutput(stdout.toFile())
                .redirectError(stderr.toFile());
        Map<String, String> environment = builder.environment();
        environment.keySet().removeIf(k -> k.startsWith("TIMBRE_") || k.startsWith("AWS_"));
        environment.put("JAVA_HOME", System.getProperty("java.home"));
        environment.put("TIMBRE_NO_BUILD", "1");
        environment.put("TIMBRE_BUILD_DIR", System.getProperty("timbre.build.dir", "target"));
        environment.putAll(env);
        try {
            return builder.start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start " + LAUNCHER, e);
        }
    }

    /** A new folder for one test class's output, under this build's folder: {@code <build dir>/blackbox/NAME-PID}. */
    static Path outputDir(String name) {
        Path dir = Path.of(System.getProperty("timbre.build.dir", "target"), "blackbox",
                name + "-" + ProcessHandle.current().pid()).toAbsolutePath();
        try {
            return Files.createDirectories(dir);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** A user's environment for a command: the given pairs, later ones winning. */
    @SafeVarargs
    static Map<String, String> env(Map<String, String>... parts) {
        Map<String, String> env = new HashMap<>();
        for (Map<String, String> part : parts) {
            env.putAll(part);
        }
        return env;
    }

    static String read(Path file) {
        try {
            return Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static List<String> commandLine(String... args) {
        List<String> command = new ArrayList<>();
        command.add(LAUNCHER.toString());
        command.addAll(List.of(args));
        return command;
    }
}
