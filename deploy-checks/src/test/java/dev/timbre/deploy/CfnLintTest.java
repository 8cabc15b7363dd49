package dev.timbre.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * Validates template.yaml against AWS's published CloudFormation resource schemas (and SAM's transform) with
 * cfn-lint, where it is installed (Python, `pip install cfn-lint`; not obtainable through Maven). Skipped, with a
 * note, where it is not: the JUnit rule checks still run everywhere.
 */
class CfnLintTest {

    static Optional<Path> cfnLint() {
        for (String dir : System.getenv().getOrDefault("PATH", "").split(File.pathSeparator)) {
            Path p = Path.of(dir, "cfn-lint");
            if (Files.isExecutable(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    @Test
    void templatePassesCfnLintIncludingTheSamTransform() throws Exception {
        Optional<Path> lint = cfnLint();
        Assumptions.assumeTrue(lint.isPresent(), "cfn-lint is not installed; schema validation skipped");
        Path out = Repo.work("cfn-lint.txt");
        Files.createDirectories(out.getParent());
        Process p = new ProcessBuilder(lint.get().toString(), "--format", "parseable", "--", "template.yaml")
                .directory(Repo.root().toFile()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), "cfn-lint finished within 3 minutes");
        String findings = Files.readString(out, StandardCharsets.UTF_8);
        Assumptions.assumeFalse(findings.contains("No module named") || findings.contains("pyenv: cfn-lint"),
                "cfn-lint shim present but not runnable: " + findings.lines().findFirst().orElse(""));
        assertEquals("", findings.strip(), "cfn-lint findings");
        assertEquals(0, p.exitValue(), "cfn-lint exit code");
    }
}
