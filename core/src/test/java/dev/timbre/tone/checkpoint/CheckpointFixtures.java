package dev.timbre.tone.checkpoint;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;

/** The committed fixtures of infra/model (generated with Debian's torch 1.13 by infra/model's script). */
final class CheckpointFixtures {
    private CheckpointFixtures() {
    }

    /** Tests run in the core module directory (surefire's default working directory). */
    static Path fixtures() {
        Path dir = Path.of(System.getProperty("user.dir")).resolve("../infra/model/fixtures").normalize();
        assertTrue(Files.isDirectory(dir), "fixture directory " + dir + " exists");
        return dir;
    }

    static Path goodConverter() {
        return fixtures().resolve("converter");
    }

    static Path bad(String name) {
        return fixtures().resolve("bad").resolve(name);
    }
}
