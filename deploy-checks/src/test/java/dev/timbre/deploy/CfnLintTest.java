package dev.timbre.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.File;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

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
        Lint result = lint("cfn-lint.txt", List.of(), "template.yaml");
        assertEquals("", result.findings().strip(), "cfn-lint findings");
        assertEquals(0, result.exitCode(), "cfn-lint exit code");
    }

    static Stream<Map<String, String>> renderings() {
        return ComputeModeTemplateTest.renderings();
    }

    /**
     * The template as CloudFormation sees it for each ComputeMode x provisioned pollers off/on (conditions and
     * Fn::If resolved): SAM's transform and the resource schemas then check exactly the branch that deploys, e.g.
     * the capacity provider's properties and the ProvisionedPollerConfig of the event source mapping it generates.
     * W2001 (unused parameter) is expected: rendering drops the branches that used them.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("renderings")
    void everyComputeModeAndPollerChoicePassesCfnLint(Map<String, String> choice) throws Exception {
        Template rendered = ComputeModeTemplateTest.template().render(choice);
        String name = "rendered-" + choice.get("ComputeMode") + "-pollers" + choice.get("MinimumPollers") + ".json";
        Path file = Repo.work(name);
        Files.createDirectories(file.getParent());
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(file.toFile(), rendered.root());
        Lint result = lint(name + ".txt", List.of("--ignore-checks", "W2001"), file.toString());
        assertEquals("", result.findings().strip(), "cfn-lint findings for " + choice);
        assertEquals(0, result.exitCode(), "cfn-lint exit code for " + choice);
    }

    /**
     * GPU memory per execution environment (the function's AcceleratorConfig) is the one Managed Instances GPU
     * setting the template leaves out, because the aws-sam-translator that cfn-lint runs rejects it
     * (docs/operations.md "Managed Instances GPU"). This proves that reason still holds; once a translator accepts
     * it, this fails and asks for it to be added to VoiceEmbeddingManagedFunction.
     */
    @Test
    void acceleratorConfigIsLeftOutOnlyWhileTheSamTranslatorRejectsIt() throws Exception {
        String text = Files.readString(Repo.file("template.yaml"), StandardCharsets.UTF_8);
        Assumptions.assumeFalse(text.contains("AcceleratorConfig:"), "AcceleratorConfig is in the template");
        String anchor = "      Environment: *FunctionEnvironment";
        assertTrue(text.contains(anchor), "the managed function's environment line");
        Path file = Repo.work("template-with-accelerator.yaml");
        Files.createDirectories(file.getParent());
        Files.writeString(file, text.replace(anchor, "      AcceleratorConfig: !If [ManagedInstancesGpu, "
                + "{AcceleratorMemorySize: 24}, !Ref 'AWS::NoValue']\n" + anchor), StandardCharsets.UTF_8);
        Lint result = lint("cfn-lint-accelerator.txt", List.of(), file.toString());
        assertTrue(result.findings().contains("property AcceleratorConfig not defined"),
                "the installed aws-sam-translator now accepts AcceleratorConfig: add it to "
                        + "VoiceEmbeddingManagedFunction (ManagedInstancesGpu) and update docs/operations.md. cfn-lint: "
                        + result.findings());
    }

    record Lint(String findings, int exitCode) {
    }

    /** Runs cfn-lint on {@code file} in the repository root (skips the test where it is missing or not runnable). */
    static Lint lint(String outName, List<String> options, String file) throws Exception {
        Optional<Path> lint = cfnLint();
        Assumptions.assumeTrue(lint.isPresent(), "cfn-lint is not installed; schema validation skipped");
        Path out = Repo.work(outName);
        Files.createDirectories(out.getParent());
        List<String> command = new ArrayList<>(List.of(lint.get().toString(), "--format", "parseable"));
        command.addAll(options);
        command.addAll(List.of("--", file));
        Process p = new ProcessBuilder(command)
                .directory(Repo.root().toFile()).redirectErrorStream(true).redirectOutput(out.toFile()).start();
        assertTrue(p.waitFor(3, TimeUnit.MINUTES), "cfn-lint finished within 3 minutes");
        String findings = Files.readString(out, StandardCharsets.UTF_8);
        Assumptions.assumeFalse(findings.contains("No module named") || findings.contains("pyenv: cfn-lint"),
                "cfn-lint shim present but not runnable: " + findings.lines().findFirst().orElse(""));
        return new Lint(findings, p.exitValue());
    }
}
