package dev.timbre.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.testsupport.ChildJvm;
import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * infra/ecs/Dockerfile.gpu copies the worker module's classes and its runtime class path (worker/target/lib) and
 * nothing else: no launcher, no command line, no local stack. This runs the image's CMD on the same class path
 * (what Maven resolved for the worker module) with the image's ENV and no queue: the worker must start, read its
 * configuration and refuse with its one-line configuration error, not fail on a missing class.
 */
class WorkerImageLayoutTest {

    @Test
    void theImagesCommandStartsTheWorkerOnTheWorkerModulesClassPath() throws Exception {
        // given: the class path of /opt/timbre/classes + /opt/timbre/lib/*, as Maven resolved it
        Path classes = Path.of(System.getProperty("timbre.worker.classes",
                Repo.root().resolve("worker/target/classes").toString()));
        Path classpathFile = Path.of(System.getProperty("timbre.worker.classpath",
                Repo.root().resolve("worker/target/runtime-classpath.txt").toString()));
        String classpath = classes + File.pathSeparator + Files.readString(classpathFile).strip();
        Dockerfile d = Dockerfile.read(Repo.file(DockerfileLintTest.GPU));
        List<String> cmd = d.cmd();
        assertEquals(List.of("java", "-cp", "/opt/timbre/classes:/opt/timbre/lib/*", "dev.timbre.ecs.EcsWorkerMain"),
                cmd, "the command this test runs");
        List<String> command = new ArrayList<>(List.of(ChildJvm.javaHome().resolve("bin/java").toString(), "-cp", classpath, cmd.get(3)));

        // when: the image's ENV (paths under /opt mapped to the fixtures), no TIMBRE_QUEUE_URL
        Path log = Repo.work("worker-image/worker.log");
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", System.getenv().getOrDefault("PATH", "/usr/bin:/bin"));
        d.env(d.finalStage().index()).forEach((k, v) -> {
            if (!k.equals("JAVA_TOOL_OPTIONS") && !k.startsWith("PYTORCH_")) { // no CUDA libtorch here
                env.put(k, v.replace("/opt/timbre/converter", Repo.file("infra/model/fixtures/converter").toString())
                        .replace("/opt/djl-cache", Repo.work("worker-image/djl-cache").toString()));
            }
        });
        Process p = pb.start();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the worker finished");
        String out = Files.readString(log);

        // then
        assertFalse(out.contains("ClassNotFoundException") || out.contains("NoClassDefFoundError"), out);
        assertEquals(3, p.exitValue(), "exit 3: a configuration error, the operator's to fix\n" + out);
        assertTrue(out.contains("timbre worker: ") && out.contains("TIMBRE_"),
                "the worker's one-line configuration error names the variable:\n" + out);
    }
}
