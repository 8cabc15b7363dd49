package dev.timbre.chaos;

import com.rabbitmq.client.GetResponse;
import dev.timbre.bridge.testing.BridgeProcess;
import dev.timbre.bridge.testing.Rabbit;
import dev.timbre.testsupport.TcpProxy;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The RabbitMQ side of the chaos run: a queue of its own on the shared broker, the real bridge ({@code BridgeMain})
 * as a child JVM forwarding it into the SQS jobs queue, and a {@link TcpProxy} between the bridge and the broker so
 * that the fault schedule can close the bridge's connection or make the broker unreachable. The producer publishes
 * with confirms straight to the broker, as a user's application would. Closing kills the bridge and deletes the
 * queue, its dead-letter queue and exchange.
 */
final class BridgeRun implements AutoCloseable {

    /** What the broker still held once the bridge stopped. */
    record Leftovers(int ready, int deadLettered, boolean deadLetteredOnlyUnsendable) {
        static final Leftovers NONE = new Leftovers(0, 0, true);
    }

    /** The bridge image's logging configuration (the class path also holds core's and this module's). */
    private static final Path LOGBACK = Path.of("..", "bridge", "src", "main", "resources", "logback.xml")
            .toAbsolutePath().normalize();

    private final Rabbit rabbit;
    private final TcpProxy proxy;
    private final String queue;
    private final Map<String, String> env = new HashMap<>();
    private final Path logDir;
    private Process process;
    private int launches;
    private long published;

    BridgeRun(Map<String, String> sqsEnv, String sqsQueueUrl) throws Exception {
        rabbit = new Rabbit();
        proxy = new TcpProxy(Rabbit.HOST, Rabbit.PORT);
        queue = rabbit.uniqueQueue("chaos");
        env.putAll(sqsEnv);
        env.put("TIMBRE_AMQP_URL", Rabbit.amqpUri(proxy.port()).toString());
        env.put("TIMBRE_AMQP_QUEUE", queue);
        env.put("TIMBRE_QUEUE_URL", sqsQueueUrl);
        env.put("TIMBRE_BRIDGE_HTTP_PORT", "0");
        env.put("TIMBRE_BRIDGE_AMQP_RECOVERY_MS", "300");
        env.put("TIMBRE_BRIDGE_SHUTDOWN_TIMEOUT_MS", "10000");
        env.put("TIMBRE_LOG_FORMAT", "json");
        logDir = Files.createTempDirectory("chaos-bridge-");
    }

    TcpProxy proxy() {
        return proxy;
    }

    /** The log of the bridge process now running (each start writes its own). */
    Path log() {
        return logDir.resolve("bridge-" + launches + ".log");
    }

    /** The logs of every bridge process started so far. */
    List<Path> logs() {
        List<Path> all = new ArrayList<>();
        for (int i = 1; i <= launches; i++) {
            all.add(logDir.resolve("bridge-" + i + ".log"));
        }
        return all;
    }

    /** Starts a bridge process; does not wait for it (the chaos loop restarts one that exits). */
    void start() throws IOException {
        launches++;
        process = BridgeProcess.start(env, log(), "-Xmx256m", "-XX:+UseSerialGC",
                "-Dlogback.configurationFile=" + LOGBACK);
    }

    boolean isAlive() {
        return process != null && process.isAlive();
    }

    /** SIGKILL: nothing flushed, nothing acked; its unacked deliveries go back to the queue. */
    void kill() throws InterruptedException {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
    }

    /** Waits until the bridge has declared its queue (with its dead-letter exchange), so publishes have a home. */
    void awaitQueueDeclared(Duration timeout) throws InterruptedException {
        try {
            BridgeProcess.awaitQueueDeclared(rabbit, queue, process, timeout);
        } catch (IllegalStateException e) {
            throw new IllegalStateException(e.getMessage() + "; see " + log(), e);
        }
    }

    /** Publishes the group, persistent, and waits for the broker's confirms. */
    void publish(List<ChaosRun.Outgoing> group) throws Exception {
        for (ChaosRun.Outgoing o : group) {
            rabbit.publish(queue, "chaos-" + published++, o.body(), Map.of());
        }
        rabbit.confirm();
    }

    /** Messages ready in the bridge's queue now (not counting those delivered and not yet acked). */
    int ready() {
        return rabbit.readyUnchecked(queue);
    }

    /** Messages in the bridge's dead-letter queue now. */
    int deadLettered() {
        return Math.max(0, rabbit.readyUnchecked(queue + ".dlq"));
    }

    /**
     * Stops the bridge with SIGTERM (it flushes and acks), then counts what the broker holds: the queue should be
     * empty and the dead-letter queue hold exactly the unsendable messages (Base64 of their bodies).
     */
    Leftovers stopAndCount(Set<String> unsendableBase64) throws Exception {
        if (isAlive()) {
            process.destroy();
            if (!process.waitFor(30, TimeUnit.SECONDS)) {
                process.destroyForcibly();
            }
        }
        int ready = rabbit.readyUnchecked(queue);
        List<String> dead = new ArrayList<>();
        for (GetResponse r; (r = rabbit.get(queue + ".dlq")) != null; ) {
            dead.add(Base64.getEncoder().encodeToString(r.getBody()));
        }
        // each of them, nothing else (one dead-lettered again after a SIGKILL before its ack is there twice)
        boolean onlyUnsendable = new HashSet<>(dead).equals(unsendableBase64);
        return new Leftovers(ready, dead.size(), onlyUnsendable);
    }

    @Override
    public void close() throws IOException {
        if (process != null && process.isAlive()) {
            try {
                process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                // still release the proxy and the queues; the caller sees the interrupt flag
                Thread.currentThread().interrupt();
            }
        }
        proxy.close();
        rabbit.close();
    }
}
