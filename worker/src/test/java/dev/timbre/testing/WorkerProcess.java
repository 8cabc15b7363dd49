package dev.timbre.testing;

import dev.timbre.ecs.EcsWorkerMain;
import dev.timbre.testsupport.ChildJvm;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;

/**
 * The ECS worker as a real process ({@link EcsWorkerMain} in a child JVM on this JVM's class path), for the tests
 * that kill it with SIGKILL or stop it with SIGTERM.
 */
public final class WorkerProcess {

    private WorkerProcess() {
    }

    /**
     * Starts a worker with {@code env} as its configuration and the engine settings this JVM runs with (offline,
     * one PyTorch thread per converter), stdout and stderr to {@code log}; polls every second, no health port.
     *
     * @param jvmOptions options before the main class, e.g. {@code -Xmx1g}
     */
    public static Process start(Map<String, String> env, Path log, int visibilitySeconds, String... jvmOptions)
            throws IOException {
        return ChildJvm.main(EcsWorkerMain.class).jvmFlags(jvmOptions).engineFlags()
                .args("--health-port", "0", "--visibility-seconds", String.valueOf(visibilitySeconds),
                        "--poll-wait-seconds", "1", "--shutdown-bound-seconds", "10")
                .env(env).env("DJL_OFFLINE", "true").outputTo(log).start().process();
    }
}
