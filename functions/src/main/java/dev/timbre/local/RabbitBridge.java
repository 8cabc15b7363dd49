package dev.timbre.local;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import dev.timbre.common.secrets.Redaction;
import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * RabbitMQ plus the real bridge, for the local stack: when {@code TIMBRE_AMQP_URL} answers, the bridge is started
 * as a child process (the same main class the ECS service runs) forwarding {@code TIMBRE_AMQP_QUEUE} (default
 * {@code timbre-demo}) into the local jobs queue, and job messages are published to RabbitMQ. Closing stops the
 * bridge with SIGTERM (it flushes and acks) and closes the connection.
 */
final class RabbitBridge implements JobPublisher {

    static final String DEFAULT_DEMO_QUEUE = "timbre-demo";
    private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

    private final Process bridge;
    private final AmqpJobPublisher publisher;

    private RabbitBridge(Process bridge, AmqpJobPublisher publisher) {
        this.bridge = bridge;
        this.publisher = publisher;
    }

    static Optional<JobPublisher> startIfReachable(Map<String, String> env, Path home, String sqsQueueUrl,
                                                   Map<String, String> sqsEnv, PrintStream console) {
        String amqpUrl = env.get("TIMBRE_AMQP_URL");
        if (amqpUrl == null || amqpUrl.isBlank()) {
            return Optional.empty();
        }
        String shown = Redaction.url(amqpUrl);
        ConnectionFactory factory = new ConnectionFactory();
        Connection probe;
        try {
            factory.setUri(amqpUrl);
            factory.setConnectionTimeout(3_000);
            probe = factory.newConnection("timbre-local-publisher");
        } catch (Exception e) {
            // a malformed URL's exception quotes it whole
            console.println("rabbitmq:   " + shown + " does not answer (" + Redaction.text(e.getMessage(), env) + ")");
            return Optional.empty();
        }
        Path classes = home.resolve("bridge/target/classes");
        Path lib = home.resolve("bridge/target/lib");
        if (!Files.isDirectory(classes) || !Files.isDirectory(lib)) {
            closeQuietly(probe);
            console.println("rabbitmq:   " + shown + " answers, but the bridge is not built (" + classes + ")");
            return Optional.empty();
        }
        String queue = env.getOrDefault("TIMBRE_AMQP_QUEUE", DEFAULT_DEMO_QUEUE);
        int port = freePort();
        ProcessBuilder pb = new ProcessBuilder(javaBinary(), "-XX:+UseSerialGC", "-cp",
                classes + File.pathSeparator + lib + File.separator + "*", "dev.timbre.bridge.BridgeMain");
        pb.environment().putAll(sqsEnv);
        pb.environment().put("TIMBRE_AMQP_URL", amqpUrl);
        pb.environment().put("TIMBRE_AMQP_QUEUE", queue);
        pb.environment().put("TIMBRE_QUEUE_URL", sqsQueueUrl);
        pb.environment().put("TIMBRE_BRIDGE_HTTP_PORT", Integer.toString(port));
        pb.environment().putIfAbsent("TIMBRE_LOG_FORMAT", "text");
        Path log = home.resolve(".timbre/bridge.log");
        try {
            Files.createDirectories(log.getParent());
        } catch (IOException e) {
            closeQuietly(probe);
            throw new java.io.UncheckedIOException(e);
        }
        pb.redirectErrorStream(true).redirectOutput(log.toFile());
        Process bridge;
        try {
            bridge = pb.start();
        } catch (IOException e) {
            closeQuietly(probe);
            console.println("rabbitmq:   could not start the bridge: " + e.getMessage());
            return Optional.empty();
        }
        if (!awaitHealthy(bridge, port)) {
            bridge.destroyForcibly();
            closeQuietly(probe);
            console.println("rabbitmq:   the bridge did not become healthy within " + READY_TIMEOUT.toSeconds()
                    + " s; see " + log);
            return Optional.empty();
        }
        console.println("rabbitmq:   " + shown + ", queue " + queue + " → bridge (pid " + bridge.pid()
                + ", log " + log + ") → SQS");
        return Optional.of(new RabbitBridge(bridge, new AmqpJobPublisher(probe, queue)));
    }

    private static boolean awaitHealthy(Process bridge, int port) {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();
        long deadline = System.nanoTime() + READY_TIMEOUT.toNanos();
        while (System.nanoTime() < deadline && bridge.isAlive()) {
            try {
                HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port
                        + "/healthz")).timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
                if (r.statusCode() == 200) {
                    return true;
                }
            } catch (IOException e) {
                // not listening yet
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return false;
            }
        }
        return false;
    }

    private static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static String javaBinary() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static void closeQuietly(Connection c) {
        try {
            c.close();
        } catch (Exception ignored) {
            // closing a probe connection; nothing to do
        }
    }

    @Override
    public void publish(String body) {
        publisher.publish(body);
    }

    @Override
    public String description() {
        return publisher.description() + " via the bridge";
    }

    @Override
    public void close() {
        publisher.close();
        bridge.destroy(); // SIGTERM: the bridge stops consuming, flushes, acks
        try {
            if (!bridge.waitFor(25, TimeUnit.SECONDS)) {
                bridge.destroyForcibly();
            }
        } catch (InterruptedException e) {
            bridge.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }
}
