package dev.timbre.bridge;

import dev.timbre.bridge.config.BridgeConfig;
import dev.timbre.common.config.ConfigException;
import java.util.concurrent.CountDownLatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Entry point of the bridge service ({@code ./timbre bridge}, the ECS task). Reads the configuration, starts the
 * bridge, and on SIGTERM/SIGINT stops it gracefully within {@code TIMBRE_BRIDGE_SHUTDOWN_TIMEOUT_MS}.
 *
 * <p>Exit codes, as every {@code ./timbre} command: 0 after a graceful stop (or {@code --help}), 2 for any argument
 * (usage error), 3 for a configuration error (rejected input: one line naming the variable), 1 otherwise.
 */
public final class BridgeMain {

    /** What {@code ./timbre bridge --help} prints: the bridge takes no arguments, only environment variables. */
    static final String USAGE = """
            Usage: timbre bridge
            Forward job messages from a RabbitMQ queue to the SQS jobs queue, acknowledging each message only once
            SQS has accepted it. Serves /healthz and Prometheus /metrics; stops gracefully on SIGTERM.
            Configured by environment variables only (bridge/README.md): TIMBRE_AMQP_URL, TIMBRE_AMQP_QUEUE,
            TIMBRE_QUEUE_URL, AWS_REGION, AWS_ENDPOINT_URL_SQS, TIMBRE_LOG_FORMAT and the TIMBRE_BRIDGE_* settings.
              -h, --help   Show this help message and exit.

            Exit codes:
              0   stopped gracefully
              1   unexpected failure
              2   usage error (the bridge takes no arguments)
              3   configuration error (one line naming the variable)
            """;

    private BridgeMain() {
    }

    public static void main(String[] args) {
        if (args.length == 1 && (args[0].equals("--help") || args[0].equals("-h"))) {
            System.out.print(USAGE);
            System.out.flush();
            System.exit(0);
            return;
        }
        if (args.length > 0) {
            System.err.println("timbre bridge: unexpected argument " + args[0]
                    + " (the bridge reads only environment variables; see timbre bridge --help)");
            System.exit(2);
            return;
        }
        BridgeConfig config;
        try {
            config = BridgeConfig.fromEnv(System.getenv());
        } catch (ConfigException e) {
            System.err.println("timbre bridge: configuration error: " + e.getMessage());
            System.exit(3);
            return;
        }
        // Logback chose its format from the environment by the same rule (dev.timbre.common.logging.LogFormat);
        // an invalid TIMBRE_LOG_FORMAT was refused above.
        Logger log = LoggerFactory.getLogger(BridgeMain.class);
        config.describe().forEach((k, v) -> log.info("config {}={}", k, v));
        long maxHeap = Runtime.getRuntime().maxMemory();
        if (config.prefetchExceedsHeap(maxHeap)) {
            log.warn("TIMBRE_BRIDGE_PREFETCH={} messages of up to 1 MiB each may not fit in half of the {} MiB heap; "
                    + "a burst of large messages could end the process (default for this heap: {})",
                    config.prefetch(), maxHeap >> 20, BridgeConfig.defaultPrefetch(maxHeap));
        }

        Bridge bridge = new Bridge(config);
        CountDownLatch stopped = new CountDownLatch(1);
        Thread hook = new Thread(() -> {
            bridge.close();
            stopped.countDown();
        }, "bridge-shutdown");
        Runtime.getRuntime().addShutdownHook(hook);
        try {
            bridge.start();
        } catch (Exception e) {
            log.error("bridge failed to start", e);
            System.exit(1);
        }
        try {
            stopped.await(); // the JVM's non-daemon threads are ours to end; the hook ends them
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
