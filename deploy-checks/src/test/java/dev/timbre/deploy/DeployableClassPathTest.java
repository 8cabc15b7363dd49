package dev.timbre.deploy;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The images get exactly their module's runtime class path (lambda/target/lib, worker/target/lib: an allow-list,
 * nothing removed afterwards), so what keeps the local demo's servers out of them is the dependency graph. This
 * reads what Maven resolved for each module (the dependency plugin's list, written while the module builds) and
 * fails when an artifact that only the demo or the tests need is on it: adding S3Proxy to core fails here.
 */
class DeployableClassPathTest {

    /** Group or group:artifact prefixes that belong to the local demo stack (cli) and the tests only. */
    static final Map<String, String> DEMO_ONLY = Map.ofEntries(
            Map.entry("org.gaul", "S3Proxy (embedded S3)"),
            Map.entry("org.elasticmq", "ElasticMQ (embedded SQS)"),
            Map.entry("org.apache.pekko", "Pekko (ElasticMQ)"),
            Map.entry("org.scala-lang", "Scala (ElasticMQ)"),
            Map.entry("com.h2database", "H2"),
            Map.entry("io.zonky.test", "embedded Postgres"),
            Map.entry("org.eclipse.jetty", "Jetty (S3Proxy)"),
            Map.entry("org.apache.jclouds", "jclouds (S3Proxy)"),
            Map.entry("tools.jackson", "Jackson 3 (S3Proxy)"),
            Map.entry("dev.timbre:timbre-embedded", "the embedded servers module"),
            Map.entry("dev.timbre:timbre-cli", "the command line and local stack"));

    private static final Pattern LINE = Pattern.compile("^\\s+([^:\\s]+):([^:\\s]+):\\S*:(compile|runtime)\\b.*$");

    record Deployable(String module, String listProperty) {
        @Override
        public String toString() {
            return module;
        }
    }

    static Stream<Deployable> deployables() {
        return Stream.of(new Deployable("lambda", "timbre.lambda.dependencies"),
                new Deployable("worker", "timbre.worker.dependencies"));
    }

    /** group:artifact of each runtime dependency in the module's list. */
    static List<String> runtimeArtifacts(Deployable d) throws Exception {
        Path list = Path.of(System.getProperty(d.listProperty(),
                Repo.root().resolve(d.module() + "/target/runtime-dependencies.txt").toString()));
        assertTrue(Files.exists(list), list + " exists (written by the dependency plugin while " + d.module()
                + " builds; run the reactor: mvn -pl deploy-checks -am test)");
        List<String> artifacts = new ArrayList<>();
        for (String line : Files.readAllLines(list)) {
            Matcher m = LINE.matcher(line);
            if (m.matches()) {
                artifacts.add(m.group(1) + ":" + m.group(2));
            }
        }
        return artifacts;
    }

    @ParameterizedTest
    @MethodSource("deployables")
    void theListIsTheModulesResolvedClassPath(Deployable d) throws Exception {
        // not vacuous: the list holds what the module runs on
        List<String> artifacts = runtimeArtifacts(d);
        for (String expected : List.of("dev.timbre:timbre-core", "ai.djl:api", "software.amazon.awssdk:sqs",
                "org.postgresql:postgresql", "ch.qos.logback:logback-classic")) {
            assertTrue(artifacts.contains(expected), d + " runs on " + expected + "; resolved: " + artifacts);
        }
    }

    @ParameterizedTest
    @MethodSource("deployables")
    void noDemoOnlyArtifactIsOnTheRuntimeClassPath(Deployable d) throws Exception {
        List<String> found = new ArrayList<>();
        for (String artifact : runtimeArtifacts(d)) {
            DEMO_ONLY.forEach((prefix, what) -> {
                if (artifact.equals(prefix) || artifact.startsWith(prefix + ":") || artifact.startsWith(prefix + ".")) {
                    found.add(artifact + " (" + what + ")");
                }
            });
        }
        assertTrue(found.isEmpty(), d + "'s image would ship demo-only artifacts: " + found
                + "; `mvn -pl " + d.module() + " dependency:tree` shows which dependency brings them");
    }
}
