package dev.timbre.blackbox;

import dev.timbre.testsupport.ChildJvm;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/** A {@link LocalServerMain} child JVM (ElasticMQ or S3Proxy) and the endpoint it printed; closing it stops it. */
final class ServerProcess implements AutoCloseable {

    private static final Duration START_TIMEOUT = Duration.ofMinutes(2);

    private final String kind;
    private final Process process;
    private final URI endpoint;

    private ServerProcess(String kind, Process process, URI endpoint) {
        this.kind = kind;
        this.process = process;
        this.endpoint = endpoint;
    }

    /** Starts the kind ({@code sqs} or {@code s3}) and waits until it prints its endpoint; stderr goes to {@code log}. */
    static ServerProcess start(String kind, Path log) {
        ChildJvm.Running running;
        try {
            running = ChildJvm.main(LocalServerMain.class).classPath(System.getProperty("java.class.path"))
                    .jvmFlags("-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1").args(kind)
                    .stdoutLines(log).start();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot start the " + kind + " server", e);
        }
        Process process = running.process();
        try {
            // its first line
            String line = running.awaitLine(l -> true, START_TIMEOUT).orElse(null);
            if (line == null || !line.startsWith("endpoint=")) {
                throw new IllegalStateException("the " + kind + " server printed " + line + " instead of its endpoint; "
                        + "log: " + Timbre.read(log));
            }
            return new ServerProcess(kind, process, URI.create(line.substring("endpoint=".length())));
        } catch (InterruptedException | RuntimeException e) {
            process.destroyForcibly();
            if (e instanceof InterruptedException) {
                Thread.currentThread().interrupt();
            }
            throw new IllegalStateException("the " + kind + " server did not start: " + e + "; log: "
                    + Timbre.read(log), e);
        }
    }

    URI endpoint() {
        return endpoint;
    }

    /** Closes its stdin (it stops itself), then SIGTERM, then SIGKILL if it still runs. */
    @Override
    public void close() {
        try {
            process.getOutputStream().close();
            if (!process.waitFor(15, TimeUnit.SECONDS)) {
                process.destroy();
                if (!process.waitFor(10, TimeUnit.SECONDS)) {
                    process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
                }
            }
        } catch (IOException e) {
            process.destroyForcibly();
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    @Override
    public String toString() {
        return kind + " at " + endpoint;
    }
}
