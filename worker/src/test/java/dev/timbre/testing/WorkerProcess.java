package dev.timbre.testing;

import dev.timbre.ecs.EcsWorkerMain;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
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
        List<String> command = new ArrayList<>();
        command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
        command.addAll(List.of(jvmOptions));
        // surefire's own property when it runs tests from a manifest-only jar; java.class.path otherwise
        command.addAll(List.of("-cp", System.getProperty("surefire.test.class.path",
                System.getProperty("java.class.path"))));
        System.getProperties().stringPropertyNames().stream()
                .filter(k -> k.startsWith("ai.djl.") || k.equals("OPT_OUT_TRACKING"))
                .forEach(k -> command.add("-D" + k + "=" + System.getProperty(k)));
        command.addAll(List.of(EcsWorkerMain.class.getName(), "--health-port", "0", "--visibility-seconds",
                String.valueOf(visibilitySeconds), "--poll-wait-seconds", "1", "--shutdown-bound-seconds", "10"));
        ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        builder.environment().putAll(env);
        builder.environment().put("DJL_OFFLINE", "true");
        return builder.start();
    }
}
