package dev.timbre.chaos;

import dev.timbre.testing.WorkerProcess;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The ECS side of the chaos run: a real worker process ({@code EcsWorkerMain}) on the jobs queue, SIGKILLed and
 * started again by the schedule; each start writes its own log, all of them checked for secrets afterwards.
 */
final class EcsWorkerRun implements AutoCloseable {

    /** The worker image's logging configuration (the class path also holds the bridge's and this module's). */
    private static final Path LOGBACK = Path.of("..", "core", "src", "main", "resources", "logback.xml")
            .toAbsolutePath().normalize();

    private final Map<String, String> env;
    private final int visibilitySeconds;
    private final List<Path> logs = new ArrayList<>();
    private Process process;

    EcsWorkerRun(Map<String, String> env, int visibilitySeconds) {
        this.env = Map.copyOf(env);
        this.visibilitySeconds = visibilitySeconds;
    }

    /** Starts a worker process; does not wait for it (the chaos loop restarts one that exits). */
    void start() throws IOException {
        Path log = Files.createTempFile("chaos-ecs-worker-", ".log");
        logs.add(log);
        process = WorkerProcess.start(env, log, visibilitySeconds, "-Xmx768m", "-Dlogback.configurationFile=" + LOGBACK);
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** SIGKILL: nothing released; its in-flight messages come back after the visibility timeout. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** SIGTERM: the graceful path releases its in-flight messages; SIGKILL after 30 s. */
    void stop() throws InterruptedException {
        if (process != null) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
    }

    /** The logs of every worker process started so far. */
    List<Path> logs() {
        return List.copyOf(logs);
    }

    @Override
    public void close() {
        if (process != null && process.isAlive()) {
            try {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
