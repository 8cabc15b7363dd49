package dev.timbre.testsupport;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * The one way tests start a Java main class as a child process: which java, which class path, which main class,
 * which JVM flags (the project's engine flags with {@link #engineFlags()}), which environment, where stdout and stderr
 * go, and what becomes of the process when the test JVM exits.
 *
 * <pre>{@code
 * try (ChildJvm.Running bridge = ChildJvm.main(BridgeMain.class).jvmFlags("-Xmx256m").env(env).outputTo(log).start()) {
 *     ...
 * }
 * }</pre>
 *
 * Defaults: this JVM's {@code java}, this JVM's (test) class path, this JVM's environment, the working directory of
 * this JVM, stdout and stderr to temporary files, the process SIGKILLed if the test JVM exits first.
 */
public final class ChildJvm {

    /**
     * The engine flags every child that may load DJL/PyTorch runs with, as the parent pom gives the test JVMs: no
     * download, no telemetry, one PyTorch thread per converter, no graph optimizer. Taken from this JVM where it
     * has them (so a test run with other values passes them on), these values otherwise.
     */
    public static final Map<String, String> ENGINE_PROPERTIES = Map.of(
            "ai.djl.offline", "true",
            "OPT_OUT_TRACKING", "true",
            "ai.djl.pytorch.num_threads", "1",
            "ai.djl.pytorch.num_interop_threads", "1",
            "ai.djl.pytorch.graph_optimizer", "false");

    /** The environment variables of the same settings (DJL reads some from the environment only). */
    public static final Map<String, String> ENGINE_ENV = Map.of(
            "DJL_OFFLINE", "true",
            "OPT_OUT_TRACKING", "true",
            "TORCH_CPP_LOG_LEVEL", "ERROR");

    /** Native access for the class path's JNI libraries, as the launcher and the images grant it. */
    public static final String NATIVE_ACCESS = "--enable-native-access=ALL-UNNAMED";

    private Path java = Path.of(System.getProperty("java.home"), "bin", "java");
    private String classPath = testClassPath();
    private final String mainClass;
    private final List<String> jvmFlags = new ArrayList<>();
    private final List<String> args = new ArrayList<>();
    private final Map<String, String> env = new LinkedHashMap<>();
    private boolean inheritEnv = true;
    private Path directory;
    private Path stdout;
    private Path stderr;
    private boolean mergeStderr;
    private boolean pipeStdout;
    private boolean destroyOnExit = true;

    private ChildJvm(String mainClass) {
        this.mainClass = mainClass;
    }

    public static ChildJvm main(Class<?> mainClass) {
        return new ChildJvm(mainClass.getName());
    }

    public static ChildJvm main(String mainClass) {
        return new ChildJvm(mainClass);
    }

    /**
     * The class path this JVM runs the tests with: surefire's own property when it runs tests from a manifest-only
     * jar, {@code java.class.path} otherwise.
     */
    public static String testClassPath() {
        return System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
    }

    public static Path javaHome() {
        return Path.of(System.getProperty("java.home"));
    }

    /** Another {@code java} binary than this JVM's. */
    public ChildJvm java(Path javaBinary) {
        this.java = javaBinary;
        return this;
    }

    public ChildJvm classPath(String classPath) {
        this.classPath = classPath;
        return this;
    }

    /** Flags before the main class, e.g. {@code -Xmx256m}; in order, after the engine flags if asked for. */
    public ChildJvm jvmFlags(String... flags) {
        jvmFlags.addAll(List.of(flags));
        return this;
    }

    /**
     * The {@link #ENGINE_PROPERTIES} and any other {@code ai.djl.*} property this JVM has, with this JVM's values
     * where it has them, as {@code -D} flags; and the {@link #ENGINE_ENV} variables not already set here.
     */
    public ChildJvm engineFlags() {
        Set<String> names = new TreeSet<>(ENGINE_PROPERTIES.keySet());
        System.getProperties().stringPropertyNames().stream().filter(k -> k.startsWith("ai.djl.")).forEach(names::add);
        names.forEach(k -> jvmFlags.add("-D" + k + "=" + System.getProperty(k, ENGINE_PROPERTIES.get(k))));
        ENGINE_ENV.forEach(env::putIfAbsent);
        return this;
    }

    /** Arguments after the main class. */
    public ChildJvm args(String... arguments) {
        args.addAll(List.of(arguments));
        return this;
    }

    /** Adds {@code variables} to the environment; a null value removes the variable. */
    public ChildJvm env(Map<String, String> variables) {
        env.putAll(variables);
        return this;
    }

    public ChildJvm env(String name, String value) {
        env.put(name, value);
        return this;
    }

    /** Starts from an empty environment instead of this JVM's: only what {@link #env} adds. */
    public ChildJvm cleanEnv() {
        inheritEnv = false;
        return this;
    }

    public ChildJvm directory(Path dir) {
        this.directory = dir;
        return this;
    }

    /** stdout and stderr together into {@code log} (its folder created). */
    public ChildJvm outputTo(Path log) {
        this.stdout = log;
        this.mergeStderr = true;
        return this;
    }

    /** stdout and stderr apart, into these files. */
    public ChildJvm outputTo(Path stdoutFile, Path stderrFile) {
        this.stdout = stdoutFile;
        this.stderr = stderrFile;
        this.mergeStderr = false;
        return this;
    }

    /**
     * stdout read by this JVM, line by line ({@link Running#awaitLine}, {@link Running#lines}), stderr into
     * {@code stderrFile}.
     */
    public ChildJvm stdoutLines(Path stderrFile) {
        this.pipeStdout = true;
        this.stdout = null;
        this.stderr = stderrFile;
        this.mergeStderr = false;
        return this;
    }

    /** Leaves the process running when the test JVM exits (default: SIGKILLed by a shutdown hook). */
    public ChildJvm keepAfterExit() {
        destroyOnExit = false;
        return this;
    }

    /** The command line: java, flags, class path, main class, arguments. */
    public List<String> command() {
        List<String> command = new ArrayList<>();
        command.add(java.toString());
        // Java 25 warns on every JNI library load from the class path (DJL's libtorch, zonky's Postgres, Netty);
        // the children load them on purpose, so the access is granted up front (JEP 472).
        command.add(NATIVE_ACCESS);
        command.addAll(jvmFlags);
        command.addAll(List.of("-cp", classPath, mainClass));
        command.addAll(args);
        return command;
    }

    public Running start() throws IOException {
        ProcessBuilder builder = new ProcessBuilder(command());
        if (directory != null) {
            builder.directory(directory.toFile());
        }
        if (!inheritEnv) {
            builder.environment().clear();
        }
        env.forEach((k, v) -> {
            if (v == null) {
                builder.environment().remove(k);
            } else {
                builder.environment().put(k, v);
            }
        });
        Path out = stdout;
        Path err = stderr;
        if (!pipeStdout && out == null) {
            out = Files.createTempFile("child-stdout-", ".txt");
        }
        if (!mergeStderr && err == null) {
            err = Files.createTempFile("child-stderr-", ".txt");
        }
        if (out != null) {
            createParent(out);
            builder.redirectOutput(out.toFile());
        }
        if (mergeStderr) {
            builder.redirectErrorStream(true);
        } else {
            createParent(err);
            builder.redirectError(err.toFile());
        }
        Process process = builder.start();
        Thread hook = null;
        if (destroyOnExit) {
            hook = new Thread(process::destroyForcibly, "child-jvm-reaper-" + process.pid());
            Runtime.getRuntime().addShutdownHook(hook);
        }
        return new Running(process, out, mergeStderr ? out : err, pipeStdout, hook);
    }

    /** Starts it and waits for it to end, at most {@code timeout}; SIGKILL and an {@link AssertionError} after. */
    public Result run(Duration timeout) throws IOException, InterruptedException {
        try (Running running = start()) {
            return running.finish(timeout);
        }
    }

    private static void createParent(Path file) throws IOException {
        Path parent = file.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
    }

    /** What a finished process left: exit status, stdout, stderr (the same text for both when merged). */
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

    /**
     * A started child JVM. Closing it SIGKILLs it if it still runs (use {@link #stop} for SIGTERM first) and drops
     * the exit hook.
     */
    public static final class Running implements AutoCloseable {
        private final Process process;
        private final Path stdoutFile;
        private final Path stderrFile;
        private final BlockingQueue<Optional<String>> lines = new LinkedBlockingQueue<>();
        private final Thread hook;

        private Running(Process process, Path stdoutFile, Path stderrFile, boolean pipeStdout, Thread hook) {
            this.process = process;
            this.stdoutFile = stdoutFile;
            this.stderrFile = stderrFile;
            this.hook = hook;
            if (pipeStdout) {
                Thread reader = new Thread(this::readLines, "child-jvm-stdout-" + process.pid());
                reader.setDaemon(true);
                reader.start();
            }
        }

        private void readLines() {
            try (BufferedReader r = new BufferedReader(new InputStreamReader(process.getInputStream(),
                    StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    lines.add(Optional.of(line));
                }
            } catch (IOException e) {
                // the process went away mid-line: what was read is all there is
            } finally {
                lines.add(Optional.empty()); // end of stream
            }
        }

        public Process process() {
            return process;
        }

        public long pid() {
            return process.pid();
        }

        public boolean isAlive() {
            return process.isAlive();
        }

        /** The file stdout goes to; null when this JVM reads it ({@link ChildJvm#stdoutLines}). */
        public Path stdoutFile() {
            return stdoutFile;
        }

        /** The file stderr goes to (the same as {@link #stdoutFile} when merged). */
        public Path stderrFile() {
            return stderrFile;
        }

        /**
         * The first stdout line that {@code matches}, skipping others; empty if stdout ends first (the process
         * exited) or {@code timeout} passes. Only with {@link ChildJvm#stdoutLines}.
         */
        public Optional<String> awaitLine(Predicate<String> matches, Duration timeout) throws InterruptedException {
            long deadline = System.nanoTime() + timeout.toNanos();
            while (true) {
                long left = deadline - System.nanoTime();
                Optional<String> line = left > 0 ? lines.poll(left, TimeUnit.NANOSECONDS) : null;
                if (line == null) {
                    return Optional.empty();
                }
                if (line.isEmpty()) {
                    lines.add(line); // keep the end marker for the next caller
                    return Optional.empty();
                }
                if (matches.test(line.get())) {
                    return line;
                }
            }
        }

        /** SIGKILL and wait (up to 10 s): nothing flushed, nothing acked, no shutdown hook of the child runs. */
        public void kill() throws InterruptedException {
            process.destroyForcibly();
            process.waitFor(10, TimeUnit.SECONDS);
        }

        /** SIGTERM, then SIGKILL if it still runs after {@code grace}; returns whether it ended on the SIGTERM. */
        public boolean stop(Duration grace) throws InterruptedException {
            process.destroy();
            if (process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                return true;
            }
            kill();
            return false;
        }

        /** Waits for the end, at most {@code timeout}: the exit and the output (files, or the lines not yet read). */
        public Result finish(Duration timeout) throws IOException, InterruptedException {
            if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                kill();
                throw new AssertionError("child process still running after " + timeout + "\n--- stdout:\n"
                        + stdoutText() + "--- stderr:\n" + read(stderrFile));
            }
            return new Result(process.exitValue(), stdoutText(), read(stderrFile));
        }

        private String stdoutText() throws IOException, InterruptedException {
            if (stdoutFile != null) {
                return read(stdoutFile);
            }
            StringBuilder text = new StringBuilder();
            for (Optional<String> line; (line = lines.poll(5, TimeUnit.SECONDS)) != null && line.isPresent(); ) {
                text.append(line.get()).append('\n');
            }
            return text.toString();
        }

        private static String read(Path file) throws IOException {
            return file != null && Files.exists(file) ? Files.readString(file, StandardCharsets.UTF_8) : "";
        }

        @Override
        public void close() {
            if (process.isAlive()) {
                try {
                    kill();
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            if (hook != null) {
                try {
                    Runtime.getRuntime().removeShutdownHook(hook);
                } catch (IllegalStateException e) {
                    // the JVM is already shutting down: the hook runs anyway, harmlessly
                }
            }
        }

    }
}
