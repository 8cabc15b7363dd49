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
import java.util.stream.Collectors;
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

    /**
     * The finding of an aws-sam-translator older than the function's AcceleratorConfig (the one installed here,
     * 1.110.0 under cfn-lint 1.51.0, predates it; SAM's transform in CloudFormation accepts it). SAM stops at the first
     * property it does not know, so a template that keeps the property hides every other finding.
     */
    static final String ACCELERATOR_UNKNOWN = "property AcceleratorConfig not defined";

    @Test
    void templatePassesCfnLintIncludingTheSamTransform() throws Exception {
        Path file = Repo.file("template.yaml");
        Lint result = lint("cfn-lint.txt", List.of(), file.toString());
        if (result.findings().contains(ACCELERATOR_UNKNOWN)) {
            // an older translator: lint everything else with the one property it does not know left out
            String text = Files.readString(file, StandardCharsets.UTF_8);
            String without = text.lines().filter(l -> !l.strip().startsWith("AcceleratorConfig:"))
                    .collect(Collectors.joining("\n", "", "\n"));
            assertEquals(1, text.lines().count() - without.lines().count(), "one AcceleratorConfig line");
            Path copy = Repo.work("template-without-accelerator.yaml");
            Files.createDirectories(copy.getParent());
            Files.writeString(copy, without, StandardCharsets.UTF_8);
            result = lint("cfn-lint-without-accelerator.txt", List.of(), copy.toString());
        }
        assertEquals("", result.findings().strip(), "cfn-lint findings");
        assertEquals(0, result.exitCode(), "cfn-lint exit code");
    }

    static Stream<Map<String, String>> renderings() {
        return ComputeModeTemplateTest.renderings();
    }

    /**
     * The template as CloudFormation sees it for each ComputeMode x provisioned pollers x SnapStart x GPU memory
     * (conditions and Fn::If resolved): SAM's transform and the resource schemas then check exactly the branch that
     * deploys, e.g. the capacity provider's properties and the ProvisionedPollerConfig of the event source mapping it
     * generates. W2001 (unused parameter) is expected: rendering drops the branches that used them. Where the
     * installed translator predates AcceleratorConfig (see above), the GPU renderings are linted without it and
     * ComputeModeTemplateTest checks it against Lambda's rules.
     */
    @ParameterizedTest(name = "{0}")
    @MethodSource("renderings")
    void everyComputeModeAndPollerChoicePassesCfnLint(Map<String, String> choice) throws Exception {
        Template rendered = ComputeModeTemplateTest.template().render(choice);
        if (translatorPredatesAcceleratorConfig()) {
            for (String id : rendered.resourcesOfType("AWS::Serverless::Function")) {
                rendered.properties(id).remove("AcceleratorConfig");
            }
        }
        String name = ComputeModeTemplateTest.name(choice) + ".json";
        Path file = Repo.work(name);
        Files.createDirectories(file.getParent());
        new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(file.toFile(), rendered.root());
        Lint result = lint(name + ".txt", List.of("--ignore-checks", "W2001"), file.toString());
        assertEquals("", result.findings().strip(), "cfn-lint findings for " + choice);
        assertEquals(0, result.exitCode(), "cfn-lint exit code for " + choice);
    }

    private static Boolean predates;

    /** Whether the installed translator rejects AcceleratorConfig: one lint of the GPU rendering, kept. */
    static synchronized boolean translatorPredatesAcceleratorConfig() throws Exception {
        if (predates == null) {
            Template gpu = ComputeModeTemplateTest.template().render(Map.of("ComputeMode", "ManagedInstancesGpu",
                    "MinimumPollers", "0", "SnapStart", "false"));
            Path file = Repo.work("rendered-gpu-probe.json");
            Files.createDirectories(file.getParent());
            new ObjectMapper().writerWithDefaultPrettyPrinter().writeValue(file.toFile(), gpu.root());
            predates = lint("rendered-gpu-probe.txt", List.of("--ignore-checks", "W2001"), file.toString())
                    .findings().contains(ACCELERATOR_UNKNOWN);
        }
        return predates;
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
