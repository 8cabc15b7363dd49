package dev.timbre.ecs;

import dev.timbre.common.health.Health;
import dev.timbre.common.health.HealthServer;
import dev.timbre.config.InvalidConfigException;
import dev.timbre.config.TimbreConfig;
import dev.timbre.pipeline.WorkerRuntime;
import java.time.Clock;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code ./timbre worker}: the ECS host. Reads the configuration, builds the runtime once, serves
 * {@code /healthz}, polls {@code TIMBRE_QUEUE_URL} until SIGTERM, then stops within a bound.
 *
 * <p>Arguments: {@code [--health-port N]} (default 8080; 0 picks a free port, logged),
 * {@code [--shutdown-bound-seconds N]} (default 25, under ECS's default 30 s stopTimeout),
 * {@code [--visibility-seconds N]} (default 60; extended every N/3 s while a job runs) and
 * {@code [--poll-wait-seconds N]} (default 10, at most 20).
 * Exit status (as every {@code ./timbre} command): 0 after a clean stop, 2 for a usage error, 3 for a
 * configuration error (one line on stderr naming the variable).
 */
public final class EcsWorkerMain {

    private static final Logger log = LoggerFactory.getLogger(EcsWorkerMain.class);

    private EcsWorkerMain() {
    }

    public static void main(String[] args) throws InterruptedException {
        int healthPort = 8080;
        Duration shutdownBound = Duration.ofSeconds(25);
        EcsWorker.Settings defaults = EcsWorker.Settings.defaults();
        Duration visibility = defaults.visibilityTimeout();
        Duration pollWait = defaults.pollWait();
        try {
            for (int i = 0; i < args.length; i++) {
                switch (args[i]) {
                    case "--health-port" -> healthPort = Integer.parseInt(args[++i]);
                    case "--shutdown-bound-seconds" -> shutdownBound = Duration.ofSeconds(Long.parseLong(args[++i]));
                    case "--visibility-seconds" -> visibility = Duration.ofSeconds(Long.parseLong(args[++i]));
                    case "--poll-wait-seconds" -> pollWait = Duration.ofSeconds(Long.parseLong(args[++i]));
                    default -> throw new IllegalArgumentException("unknown argument " + args[i]);
                }
            }
        } catch (RuntimeException e) {
            System.err.println(e.getMessage() + "; usage: [--health-port N] [--shutdown-bound-seconds N]"
                    + " [--visibility-seconds N] [--poll-wait-seconds N]");
            System.exit(2);
            return;
        }
        // The heartbeat runs at a third of the visibility timeout: two missed beats still leave the message hidden.
        EcsWorker.Settings settings = new EcsWorker.Settings(defaults.maxMessages(), pollWait, visibility,
                visibility.dividedBy(3), defaults.maxBatchTime());

        TimbreConfig config;
        try {
            config = TimbreConfig.fromEnv(System.getenv());
            if (config.queueUrl().isEmpty()) {
                throw new InvalidConfigException("TIMBRE_QUEUE_URL is required by the worker");
            }
        } catch (InvalidConfigException e) {
            System.err.println("timbre worker: " + e.getMessage());
            System.exit(3); // ExitCodes.BAD_INPUT: rejected input, the operator's to fix
            return;
        }

        WorkerRuntime runtime = WorkerRuntime.create(config, "timbre-ecs");
        // Completion events (docs/architecture.md §13): published within a second of commit, and whatever a crash or
        // an outage left in the outbox is swept up by any worker.
        runtime.events().ifPresent(events -> events.startSweeper(config.events().sweepEvery()));
        EcsWorker worker = new EcsWorker(runtime.sqs(), config.queueUrl().get().toString(), runtime.batches(),
                runtime.metrics(), settings, Clock.systemUTC());
        // {"status":"ok"} 200 or {"status":"unhealthy"} 503, the answer both services give (docs/operations.md)
        HealthServer health = HealthServer.start(healthPort, "timbre-ecs-health", () -> Health.of(worker.healthy()));
        log.atInfo().addKeyValue("health_port", health.port()).log("serving /healthz");

        Thread loop = new Thread(worker, "timbre-ecs-poller");
        Duration bound = shutdownBound;
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            // SIGTERM (ECS stop): stop polling, let the batch in flight finish or release it, then close in order.
            boolean clean = worker.shutdown(bound);
            health.close();
            runtime.close();
            log.atInfo().addKeyValue("clean", clean).log("worker shut down");
        }, "timbre-shutdown"));
        loop.start();
        loop.join();
    }
}
