package dev.timbre.testsupport;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ChildJvmTest {

    private static final Duration LIMIT = Duration.ofSeconds(60);

    @Test
    void runsTheMainClassWithItsFlagsArgumentsAndEnvironmentAndKeepsStdoutAndStderrApart() throws Exception {
        ChildJvm.Result r = ChildJvm.main(EchoMain.class).engineFlags().jvmFlags("-Xmx32m").args("3", "b")
                .env("CHILD_JVM_TEST", "here").run(LIMIT);
        assertEquals(3, r.exit(), r.describe());
        assertEquals(List.of("args=3,b", "env=here", "prop=true", "ready"), r.stdoutLines(), r.describe());
        assertEquals(List.of("to stderr"), r.stderrLines(), r.describe());
    }

    @Test
    void theCommandPutsFlagsBeforeTheClassPathAndArgumentsAfterTheMainClass() {
        List<String> command = ChildJvm.main("a.Main").classPath("cp").jvmFlags("-Xmx1m").args("x").command();
        assertEquals(List.of(ChildJvm.NATIVE_ACCESS, "-Xmx1m", "-cp", "cp", "a.Main", "x"),
                command.subList(1, command.size()));
    }

    @Test
    void aNullValueRemovesAVariableAndACleanEnvironmentHasOnlyWhatWasGiven() throws Exception {
        ChildJvm.Result removed = ChildJvm.main(EchoMain.class).env("CHILD_JVM_TEST", null).run(LIMIT);
        assertTrue(removed.stdoutLines().contains("env=null"), removed.describe());
        ChildJvm.Result clean = ChildJvm.main(EchoMain.class).cleanEnv().env("CHILD_JVM_TEST", "only").run(LIMIT);
        assertTrue(clean.stdoutLines().contains("env=only"), clean.describe());
    }

    @Test
    void mergedOutputGoesToOneLogFileInAFolderItCreates(@TempDir Path dir) throws Exception {
        Path log = dir.resolve("logs").resolve("child.log");
        ChildJvm.Result r = ChildJvm.main(EchoMain.class).outputTo(log).run(LIMIT);
        assertEquals(0, r.exit());
        String text = Files.readString(log);
        assertTrue(text.contains("ready") && text.contains("to stderr"), text);
    }

    @Test
    void waitsForALineThenStopsTheProcessWhenClosed(@TempDir Path dir) throws Exception {
        ChildJvm.Running running;
        try (ChildJvm.Running r = ChildJvm.main(EchoMain.class).args("wait").stdoutLines(dir.resolve("err.txt"))
                .start()) {
            running = r;
            Optional<String> ready = r.awaitLine("ready"::equals, LIMIT);
            assertEquals(Optional.of("ready"), ready);
            assertTrue(r.isAlive());
        }
        assertTrue(running.process().waitFor(10, java.util.concurrent.TimeUnit.SECONDS));
        assertFalse(running.isAlive());
    }

    @Test
    void awaitLineIsEmptyWhenTheProcessExitsWithoutPrintingIt(@TempDir Path dir) throws Exception {
        try (ChildJvm.Running r = ChildJvm.main(EchoMain.class).args("0").stdoutLines(dir.resolve("err.txt"))
                .start()) {
            assertEquals(Optional.empty(), r.awaitLine("never printed"::equals, LIMIT));
        }
    }

    @Test
    void aChildStillRunningAtTheLimitIsKilledAndReported() throws Exception {
        try (ChildJvm.Running r = ChildJvm.main(EchoMain.class).args("wait").start()) {
            AssertionError e = assertThrows(AssertionError.class, () -> r.finish(Duration.ofSeconds(3)));
            assertTrue(e.getMessage().contains("still running"), e.getMessage());
            assertFalse(r.isAlive());
        }
    }
}
