package dev.timbre.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * infra/ecs/Dockerfile.gpu runs `./timbre worker` from /opt/timbre with only the launcher, the compiled classes,
 * the jars and a build stamp (no sources, no Maven). This lays out the same tree and runs the launcher in it: it
 * must start the CLI without trying to build.
 */
class WorkerImageLayoutTest {

    @Test
    void theLauncherRunsTheWorkerCommandFromTheImageLayoutWithoutBuilding() throws Exception {
        // given: /opt/timbre as the GPU image has it
        // classes + jars of the function as Maven resolves them (the Lambda's lean lib/: the GPU image keeps the
        // local runner's jars and drops the CPU natives jar instead; neither matters to the launcher)
        LambdaImage image = LambdaImage.build();
        Path root = Repo.work("worker-image/opt-timbre");
        LambdaImage.deleteTree(root);
        Path target = root.resolve("functions/target");
        Files.createDirectories(target.resolve("lib"));
        Files.createDirectories(target.resolve("classes"));
        try (var top = Files.list(image.taskRoot)) {
            for (Path entry : top.filter(e -> !e.getFileName().toString().equals("lib")).toList()) {
                LambdaImage.copyTree(entry, target.resolve("classes").resolve(entry.getFileName().toString()));
            }
        }
        try (var jars = Files.list(image.taskRoot.resolve("lib"))) {
            for (Path j : jars.toList()) {
                Files.createSymbolicLink(target.resolve("lib").resolve(j.getFileName()), Files.readSymbolicLink(j));
            }
        }
        Files.copy(Repo.file("timbre"), root.resolve("timbre"));
        Files.writeString(target.resolve(".timbre-build-stamp"), "");

        // when
        Path log = Repo.work("worker-image/launcher.log");
        ProcessBuilder pb = new ProcessBuilder("bash", "./timbre", "worker", "--help").directory(root.toFile())
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
        Process p = pb.start();
        assertTrue(p.waitFor(2, TimeUnit.MINUTES), "the launcher finished");
        String out = Files.readString(log);

        // then
        assertFalse(out.contains("building"), "the launcher tried to build inside the image:\n" + out);
        assertEquals(0, p.exitValue(), out);
        assertTrue(out.contains("TIMBRE_QUEUE_URL"), "the worker command's help:\n" + out);
    }
}
