package dev.timbre.deploy;

import java.nio.file.Files;
import java.nio.file.Path;

/** Paths in the repository, wherever Maven or an IDE runs the tests from. */
final class Repo {

    private Repo() {
    }

    static Path root() {
        String configured = System.getProperty("timbre.repo.root");
        if (configured != null) {
            return Path.of(configured).toAbsolutePath().normalize();
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.exists(p.resolve("template.yaml")) && Files.exists(p.resolve("core"))) {
                return p;
            }
        }
        throw new IllegalStateException("repository root not found from " + Path.of("").toAbsolutePath()
                + "; set -Dtimbre.repo.root");
    }

    static Path file(String relative) {
        return root().resolve(relative);
    }

    /** A scratch folder under this module's build directory. */
    static Path work(String name) {
        String configured = System.getProperty("timbre.work.dir");
        Path base = configured != null ? Path.of(configured) : root().resolve("deploy-checks/target/deploy-checks-work");
        return base.resolve(name);
    }
}
