package dev.timbre.blackbox;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * {@code ./timbre worker} as ECS runs it: its own process, JSON logs ({@code TIMBRE_LOG_FORMAT=json}, what
 * CloudWatch gets), {@code /healthz} on a port, stopped with SIGTERM.
 */
final class WorkerRun implements AutoCloseable {

    /** Bounds a hung start or stop only. */
    private static final Duration START_TIMEOUT = Duration.ofMinutes(3);
    private static final Duration STOP_TIMEOUT = Duration.ofSeconds(90);
    /** The worker's own bound on SIGTERM handling (its --shutdown-bound-seconds). */
    static final int SHUTDOWN_BOUND_SECONDS = 20;

    private static final ObjectMapper JSON = new ObjectMapper();

    private final String name;
    private final Process process;
    private final Path stdout;
    private final Path stderr;
    private final int healthPort;

    private WorkerRun(String name, Process process, Path stdout, Path stderr, int healthPort) {
        this.name = name;
        this.process = process;
        this.stdout = stdout;
        this.stderr = stderr;
        this.healthPort = healthPort;
    }

    /** What the stopped worker left: exit status and every line it wrote. */
    record Stopped(int exit, List<String> stdout, List<String> stderr) {

        /** The log events, each line parsed as JSON; an assertion fails on any line that is not a JSON object. */
        List<JsonNode> events() {
            List<JsonNode> events = new ArrayList<>();
            for (List<String> stream : List.of(stdout, stderr)) {
                for (String line : stream) {
                    if (line.isBlank()) {
                        continue;
                    }
                    try {
                        JsonNode node = JSON.readTree(line);
                        assertTrue(node != null && node.isObject(), "a log line that is not a JSON object: " + line);
                        events.add(node);
                    } catch (IOException e) {
                        fail("with TIMBRE_LOG_FORMAT=json every line the worker writes is one JSON object; this one "
                                + "is not: " + line);
                    }
                }
            }
            return events;
        }

        String describe() {
            return "exit " + exit + "\n--- stdout ---\n" + tail(stdout) + "\n--- stderr ---\n" + tail(stderr);
        }

        private static String tail(List<String> lines) {
            return String.join("\n", lines.subList(Math.max(0, lines.size() - 40), lines.size()));
        }
    }

    /**
     * Starts {@code ./timbre worker} with {@code env} and waits until its {@code /healthz} answers 200.
     *
     * @param name names its output files under the stack's folder
     */
    static WorkerRun start(BlackBoxStack stack, String name) {
        int port = freePort();
        Map<String, String> env = new HashMap<>(stack.env());
        env.put("TIMBRE_LOG_FORMAT", "json");
        Path out = stack.dir().resolve(name + ".out");
        Path err = stack.dir().resolve(name + ".err");
        Process p = stack.timbre().start(env, out, err, "worker", "--health-port", String.valueOf(port),
                "--poll-wait-seconds", "1", "--visibility-seconds", String.valueOf(BlackBoxStack.VISIBILITY.toSeconds()),
                "--shutdown-bound-seconds", String.valueOf(SHUTDOWN_BOUND_SECONDS));
        WorkerRun worker = new WorkerRun(name, p, out, err, port);
        // a test JVM stopped from outside (a build timeout) still takes its workers with it
        Runtime.getRuntime().addShutdownHook(new Thread(p::destroyForcibly, "stop-" + name));
        worker.awaitHealthy();
        return worker;
    }

    private void awaitHealthy() {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + healthPort + "/healthz"))
                .timeout(Duration.ofSeconds(5)).build();
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (true) {
            if (!process.isAlive()) {
                fail(name + " exited with " + process.exitValue() + " before /healthz answered\n--- stdout ---\n"
                        + Timbre.read(stdout) + "\n--- stderr ---\n" + Timbre.read(stderr));
            }
            try {
                if (http.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
                    return;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted");
            }
            if (System.nanoTime() > deadline) {
                close();
                fail(name + ": /healthz did not answer 200 within " + START_TIMEOUT.toSeconds() + " s\n"
                        + Timbre.read(stderr));
            }
            Waits.sleep(Duration.ofMillis(200));
        }
    }

    /** SIGTERM, as ECS and {@code docker stop} send it, and waits for the process to end. */
    Stopped stop() {
        process.destroy();
        try {
            if (!process.waitFor(STOP_TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                fail(name + " still ran " + STOP_TIMEOUT.toSeconds() + " s after SIGTERM (its bound is "
                        + SHUTDOWN_BOUND_SECONDS + " s)\n" + Timbre.read(stderr));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail("interrupted");
        }
        return new Stopped(process.exitValue(), Timbre.read(stdout).lines().toList(),
                Timbre.read(stderr).lines().toList());
    }

    /** SIGKILL if it still runs (a failed test's clean-up). */
    @Override
    public void close() {
        if (process.isAlive()) {
            process.destroyForcibly();
            try {
                process.waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
