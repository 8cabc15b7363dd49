package dev.timbre.bridge.testing;

import dev.timbre.bridge.BridgeMain;
import dev.timbre.testsupport.ChildJvm;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * The bridge as a real process, as ECS runs it: {@link BridgeMain} in a child JVM on this JVM's class path, for the
 * tests that kill it with SIGKILL or stop it with SIGTERM (here and in system-tests).
 */
public final class BridgeProcess {

    private BridgeProcess() {
    }

    /**
     * Starts a bridge with {@code env} as its whole configuration, stdout and stderr to {@code log}; does not wait.
     *
     * @param jvmOptions options before the main class, e.g. {@code -Xmx256m}
     */
    public static Process start(Map<String, String> env, Path log, String... jvmOptions) throws IOException {
        return ChildJvm.main(BridgeMain.class).jvmFlags(jvmOptions).env(env).outputTo(log).start().process();
    }

    /**
     * Waits until the bridge has declared {@code queue} (with its dead-letter exchange), so that publishes have a
     * home.
     *
     * @throws IllegalStateException if the bridge exits first or {@code timeout} passes
     */
    public static void awaitQueueDeclared(Rabbit rabbit, String queue, Process bridge, Duration timeout)
            throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (rabbit.readyUnchecked(queue) < 0) {
            if (!bridge.isAlive()) {
                throw new IllegalStateException("the bridge exited (status " + bridge.exitValue()
                        + ") before declaring " + queue);
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the bridge did not declare " + queue + " within " + timeout);
            }
            Thread.sleep(50);
        }
    }
}
