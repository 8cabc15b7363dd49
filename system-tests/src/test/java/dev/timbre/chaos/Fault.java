package dev.timbre.chaos;

import dev.timbre.testing.FakeQdrant;
import io.grpc.Status;
import java.io.PrintStream;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

/**
 * The chaos run's fault catalogue: each fault with the name its count is reported under, how it is injected and
 * undone, and when it fires. {@link Schedule#DRAWN} faults are drawn, one every fault period, by weight, from those
 * the run's path has ({@link #needsBridge}); {@link Schedule#TAKING_TURNS} faults are the SIGKILLs, one every
 * {@link #KILL_EVERY}, alternating between the processes the run has. Windows, not request counts: a count would be
 * soaked up by the few jobs left at the end of a run; an outage hits whatever runs while it lasts.
 */
enum Fault {

    POSTGRES_CONNECTIONS_KILLED("Postgres connections killed (pg_terminate_backend)", Schedule.DRAWN, 1, false) {
        @Override
        void inject(Targets t) throws Exception {
            int killed = t.postgres().terminateBackends();
            t.out().println("chaos: killed " + killed + " Postgres connections");
        }
    },
    POSTGRES_UNAVAILABLE("Postgres unavailable for 3 s", Schedule.DRAWN, 1, false) {
        @Override
        void inject(Targets t) throws Exception {
            t.postgres().setAllowConnections(false);
            t.postgres().terminateBackends();
            Thread.sleep(3000);
            undo(t);
        }

        @Override
        void undo(Targets t) throws Exception {
            t.postgres().setAllowConnections(true);
        }
    },
    QDRANT_UNAVAILABLE("Qdrant UNAVAILABLE (1 s window)", Schedule.DRAWN, 1, false) {
        @Override
        void inject(Targets t) throws Exception {
            t.qdrant().failNextCalls(Integer.MAX_VALUE, Status.UNAVAILABLE.withDescription("chaos"));
            Thread.sleep(1000);
            t.qdrant().failNextCalls(0, Status.UNAVAILABLE);
        }

        @Override
        void undo(Targets t) {
            t.qdrant().clearFaults();
        }
    },
    QDRANT_UPSERTS_HANG("Qdrant upserts hanging past the deadline (2.5 s window)", Schedule.DRAWN, 1, false) {
        @Override
        void inject(Targets t) throws Exception {
            t.qdrant().delayUpserts(Duration.ofSeconds(3)); // past the 2 s client deadline
            Thread.sleep(2500);
            t.qdrant().delayUpserts(Duration.ZERO);
        }

        @Override
        void undo(Targets t) {
            t.qdrant().clearFaults();
        }
    },
    S3_SLOW_DOWN("S3 503 SlowDown (1 s window)", Schedule.DRAWN, 1, false) {
        @Override
        void inject(Targets t) {
            t.s3().slowDownFor(Duration.ofSeconds(1));
        }

        @Override
        void undo(Targets t) {
            t.s3().clear();
        }
    },
    S3_REFUSED("S3 connection refused (1 s window)", Schedule.DRAWN, 1, false) {
        @Override
        void inject(Targets t) {
            t.s3().refuseFor(Duration.ofSeconds(1));
        }

        @Override
        void undo(Targets t) {
            t.s3().clear();
        }
    },
    S3_LATENCY("S3 latency +3 s per request (3 s window)", Schedule.DRAWN, 1, false) {
        @Override
        void inject(Targets t) {
            t.s3().delayFor(Duration.ofSeconds(3));
        }

        @Override
        void undo(Targets t) {
            t.s3().clear();
        }
    },
    /**
     * The next invocations start with almost no time left, as if Lambda's timeout were about to cut them, so their
     * batches stop mid-way (deadlines reached under slow dependencies also happen on their own, and are counted
     * the same way).
     */
    LAMBDA_DEADLINE("Lambda deadline mid-batch (next 3 invocations start " + ChaosRun.NEAR_DEADLINE_BUDGET.toMillis()
            + " ms before it)", Schedule.DRAWN, 1, false) {
        @Override
        void inject(Targets t) {
            t.nearDeadline().set(3);
        }
    },
    RABBITMQ_CONNECTION_CLOSED("RabbitMQ connection of the bridge closed", Schedule.DRAWN, 1, true) {
        @Override
        void inject(Targets t) {
            t.bridge().proxy().resetConnections();
        }
    },
    RABBITMQ_UNREACHABLE("RabbitMQ unreachable for 2 s", Schedule.DRAWN, 1, true) {
        @Override
        void inject(Targets t) throws Exception {
            t.bridge().proxy().cut();
            Thread.sleep(2000);
            undo(t);
        }

        @Override
        void undo(Targets t) {
            t.bridge().proxy().restore();
        }
    },
    /** Nothing flushed, nothing acked: its unacked deliveries go back to the broker's queue. */
    BRIDGE_SIGKILL("bridge SIGKILL + restart", Schedule.TAKING_TURNS, 1, true) {
        @Override
        void inject(Targets t) throws Exception {
            t.bridge().kill();
            t.out().println("chaos: bridge SIGKILLed; restarting");
            t.bridge().start();
        }
    },
    /** Nothing released: its in-flight messages come back after the visibility timeout. */
    ECS_WORKER_SIGKILL("ECS worker SIGKILL + restart", Schedule.TAKING_TURNS, 1, false) {
        @Override
        void inject(Targets t) throws Exception {
            t.worker().kill();
            t.out().println("chaos: ECS worker SIGKILLed; restarting");
            t.worker().start();
        }
    };

    /** When a fault fires. */
    enum Schedule {
        /** Drawn by weight, one every fault period, while the schedule runs. */
        DRAWN,
        /** One every {@link #KILL_EVERY}, alternating between the processes the run has. */
        TAKING_TURNS
    }

    /**
     * What the faults act on. {@code bridge} is null without the bridge, {@code worker} null without the ECS worker;
     * the faults that need them are never scheduled then.
     */
    record Targets(PostgresFaults postgres, FakeQdrant qdrant, S3Faults s3, AtomicInteger nearDeadline,
                   BridgeRun bridge, EcsWorkerRun worker, PrintStream out) {
    }

    static final Duration KILL_EVERY = Duration.ofSeconds(12);

    private final String label;
    private final Schedule schedule;
    private final int weight;
    private final boolean needsBridge;

    Fault(String label, Schedule schedule, int weight, boolean needsBridge) {
        this.label = label;
        this.schedule = schedule;
        this.weight = weight;
        this.needsBridge = needsBridge;
    }

    /** The name its count is reported under. */
    String label() {
        return label;
    }

    Schedule schedule() {
        return schedule;
    }

    int weight() {
        return weight;
    }

    boolean needsBridge() {
        return needsBridge;
    }

    /** Injects the fault; a window fault with a sleep in it has undone itself when this returns. */
    abstract void inject(Targets t) throws Exception;

    /** Ends the fault now if it can still be in force (a window not yet over); nothing for one-off faults. */
    void undo(Targets t) throws Exception {
    }

    /** The drawn faults a run with (or without) the bridge can have, in catalogue order. */
    static List<Fault> drawable(boolean bridge) {
        return Stream.of(values()).filter(f -> f.schedule == Schedule.DRAWN && (bridge || !f.needsBridge)).toList();
    }

    /** One drawn fault, by weight (one draw of {@code random} per fault, so a seed gives the same schedule). */
    static Fault draw(Random random, boolean bridge) {
        List<Fault> faults = drawable(bridge);
        int r = random.nextInt(faults.stream().mapToInt(Fault::weight).sum());
        for (Fault f : faults) {
            r -= f.weight;
            if (r < 0) {
                return f;
            }
        }
        throw new AssertionError("weights sum to more than the draw");
    }

    /** The {@code kills}-th SIGKILL (from 0): the worker first, then the bridge, in turns; only one there is. */
    static Fault kill(int kills, boolean bridge, boolean worker) {
        return bridge && (!worker || kills % 2 == 1) ? BRIDGE_SIGKILL : ECS_WORKER_SIGKILL;
    }

    /** Ends every fault that can still be in force, so the queue drains without faults. */
    static void undoAll(Targets t) throws Exception {
        for (Fault f : values()) {
            if (t.bridge() != null || !f.needsBridge) {
                f.undo(t);
            }
        }
    }
}
