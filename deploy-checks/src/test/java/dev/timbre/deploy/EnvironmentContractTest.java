package dev.timbre.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The environment variables the template sets against those the code reads (docs/architecture.md §8). The names the code
 * reads are the upper-case string literals of the one class per module that reads the environment
 * (TimbreConfig, BridgeConfig) and of the rules both read through ({@code common}: the AWS region and endpoint
 * rule, the log format rule). A variable set but never read is a typo or a leftover; one read but not set must
 * be listed below with the reason it is left to its default.
 */
class EnvironmentContractTest {

    /** Read by TimbreConfig, deliberately not set on the function; the reason is the value. */
    static final Map<String, String> FUNCTION_UNSET = Map.ofEntries(
            Map.entry("TIMBRE_AMQP_URL", "producer side (./timbre submit publishes); the function consumes SQS only"),
            Map.entry("TIMBRE_AMQP_QUEUE", "producer side, as TIMBRE_AMQP_URL"),
            Map.entry("AWS_REGION", "reserved: the Lambda runtime sets it"),
            Map.entry("AWS_LAMBDA_FUNCTION_NAME", "reserved: the Lambda runtime sets it (TimbreConfig picks JSON logs from it)"),
            Map.entry("AWS_ENDPOINT_URL", "local runs only: points the SDK at the embedded servers"),
            Map.entry("AWS_ENDPOINT_URL_S3", "local runs only"),
            Map.entry("AWS_ENDPOINT_URL_SQS", "local runs only"),
            Map.entry("ECS_CONTAINER_METADATA_URI_V4", "set by the ECS agent, not in Lambda"),
            Map.entry("TIMBRE_QUEUE_URL", "ECS worker only: Lambda receives messages from the event source mapping"),
            Map.entry("TIMBRE_DB_USER", "the function reads its credentials from TIMBRE_DB_SECRET_ARN at cold start"),
            Map.entry("TIMBRE_DB_PASSWORD", "as TIMBRE_DB_USER: never in the function's configuration"),
            Map.entry("AWS_ENDPOINT_URL_SECRETS_MANAGER", "local runs only"),
            Map.entry("TIMBRE_ALLOWED_BUCKETS", "one bucket per stack: the role may read only the upload prefix"),
            Map.entry("TIMBRE_LOG_FORMAT", "defaults to JSON inside Lambda and ECS"),
            Map.entry("TIMBRE_EVENTS_QUEUE_URL", "the SQS sink of local runs and tests; the stack publishes to its bus"),
            Map.entry("AWS_ENDPOINT_URL_EVENTBRIDGE", "local runs only"),
            Map.entry("TIMBRE_EVENTS_SWEEP_MS", "the function publishes after each batch; the interval is for the "
                    + "ECS worker"));

    /**
     * Read by the libraries rather than TimbreConfig: aws-embedded-metrics (the worker's EMF), and libtorch's
     * c10 logger (TORCH_CPP_LOG_LEVEL, which TorchEngine has c10 read).
     */
    static final Set<String> LIBRARY_VARIABLES = Set.of("AWS_EMF_ENVIRONMENT", "TORCH_CPP_LOG_LEVEL");

    private static final Pattern NAME_LITERAL = Pattern.compile("\"([A-Z][A-Z0-9]*_[A-Z0-9_]+)\"");

    static Template template;

    @BeforeAll
    static void load() throws Exception {
        template = Template.load(Repo.file("template.yaml"));
    }

    static Map<String, Object> functionEnvironment(Template t) {
        Map<String, Object> env = Template.map(t.properties(TemplateRulesTest.FUNCTION).get("Environment"), "Environment");
        return Template.map(env.get("Variables"), "Environment.Variables");
    }

    /** The shared rules every service's configuration class reads through (region, endpoints, log format). */
    static final List<String> SHARED_RULES = List.of("common/src/main/java/dev/timbre/common/config",
            "common/src/main/java/dev/timbre/common/logging");

    static Set<String> namesReadBy(String sourceDir) throws IOException {
        Set<String> names = new TreeSet<>();
        for (String d : Stream.concat(Stream.of(sourceDir), SHARED_RULES.stream()).toList()) {
            Path dir = Repo.file(d);
            assertTrue(Files.isDirectory(dir), "the class that reads the environment lives in " + dir);
            try (Stream<Path> files = Files.walk(dir)) {
                for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                    Matcher m = NAME_LITERAL.matcher(Files.readString(f));
                    while (m.find()) {
                        names.add(m.group(1));
                    }
                }
            }
        }
        assertFalse(names.isEmpty(), "no variable names found in " + sourceDir);
        return names;
    }

    /** Names of a container definition's Environment and Secrets entries (Fn::If-wrapped entries included). */
    static Set<String> containerVariables(String taskDefinition) {
        Map<String, Object> c = Template.map(((List<?>) template.properties(taskDefinition).get("ContainerDefinitions"))
                .get(0), taskDefinition);
        Set<String> names = new TreeSet<>();
        for (String key : List.of("Environment", "Secrets")) {
            Object entries = c.get(key);
            if (entries == null) {
                continue;
            }
            Matcher m = Pattern.compile("Name=([A-Z][A-Z0-9_]+)").matcher(entries.toString());
            while (m.find()) {
                names.add(m.group(1));
            }
        }
        return names;
    }

    @Test
    void functionSetsEveryVariableTimbreConfigReadsExceptTheListedOnes() throws IOException {
        Set<String> read = namesReadBy("core/src/main/java/dev/timbre/config");
        Set<String> set = new TreeSet<>(functionEnvironment(template).keySet());

        Set<String> unused = new TreeSet<>(set);
        unused.removeAll(read);
        unused.removeAll(LIBRARY_VARIABLES);
        assertEquals(Set.of(), unused, "set on the function but never read by TimbreConfig");

        Map<String, String> missing = new TreeMap<>();
        for (String name : read) {
            if (!set.contains(name) && !FUNCTION_UNSET.containsKey(name)) {
                missing.put(name, "read by TimbreConfig, not set by template.yaml, no reason listed");
            }
        }
        assertEquals(Map.of(), missing);

        Set<String> stale = new TreeSet<>(FUNCTION_UNSET.keySet());
        stale.removeAll(read);
        assertEquals(Set.of(), stale, "listed as deliberately unset but no longer read: drop them from the list");
        Set<String> both = new TreeSet<>(FUNCTION_UNSET.keySet());
        both.retainAll(set);
        assertEquals(Set.of(), both, "listed as unset but set after all");
    }

    @Test
    void theFunctionAndTheGpuWorkerKeepLibtorchsOwnLoggerToErrors() {
        // libtorch writes its warnings to stderr in glog form, outside the JSON log lines (docs/operations.md)
        assertEquals("ERROR", functionEnvironment(template).get("TORCH_CPP_LOG_LEVEL"), "function");
        String worker = template.properties("WorkerTaskDefinition").toString();
        assertTrue(worker.contains("Name=TORCH_CPP_LOG_LEVEL, Value=ERROR"), "worker: " + worker);
    }

    @Test
    void functionSetsNoReservedLambdaVariable() {
        // Lambda rejects these keys in Environment.Variables (configuration-envvars.html, "reserved").
        for (String name : functionEnvironment(template).keySet()) {
            assertFalse(name.startsWith("AWS_") || name.startsWith("LAMBDA_") || name.equals("_HANDLER"),
                    name + " is reserved by Lambda");
        }
    }

    @Test
    void gpuWorkerSetsOnlyWhatTheCodeReadsAndWhatTheWorkerLoopNeeds() throws IOException {
        Set<String> read = namesReadBy("core/src/main/java/dev/timbre/config");
        Set<String> set = containerVariables("WorkerTaskDefinition");
        Set<String> unused = new TreeSet<>(set);
        unused.removeAll(read);
        unused.removeAll(LIBRARY_VARIABLES);
        assertEquals(Set.of(), unused, "set on the worker but never read");
        for (String needed : List.of("TIMBRE_QUEUE_URL", "TIMBRE_DLQ_URL", "TIMBRE_DB_URL", "TIMBRE_DB_USER",
                "TIMBRE_DB_PASSWORD", "TIMBRE_S3_BUCKET", "TIMBRE_MAX_RECEIVES", "AWS_REGION")) {
            assertTrue(set.contains(needed), "worker sets " + needed);
        }
    }

    @Test
    void bridgeSetsOnlyWhatBridgeConfigReadsIncludingTheQueuesAndItsHealthPort() throws IOException {
        Set<String> read = namesReadBy("bridge/src/main/java/dev/timbre/bridge/config");
        Set<String> set = containerVariables("BridgeTaskDefinition");
        Set<String> unused = new TreeSet<>(set);
        unused.removeAll(read);
        assertEquals(Set.of(), unused, "set on the bridge but never read by BridgeConfig");
        for (String needed : List.of("TIMBRE_AMQP_URL", "TIMBRE_AMQP_QUEUE", "TIMBRE_QUEUE_URL",
                "TIMBRE_BRIDGE_HTTP_PORT", "AWS_REGION")) {
            assertTrue(set.contains(needed), "bridge sets " + needed);
        }
    }

    @Test
    void theMaxReceivesTheHandlerUsesIsTheQueuesRedriveCountOnTheWorkerToo() {
        String worker = template.properties("WorkerTaskDefinition").toString();
        assertTrue(worker.contains("Name=TIMBRE_MAX_RECEIVES, Value={Ref=MaxReceiveCount}"), worker);
    }

    @Test
    void theEmbeddingModeDefaultIsOneParameterOnTheFunctionAndTheWorkerDefaultingToGetSe() {
        assertEquals("{Ref=SeMode}", String.valueOf(functionEnvironment(template).get("TIMBRE_SE_MODE")), "function");
        String worker = template.properties("WorkerTaskDefinition").toString();
        assertTrue(worker.contains("Name=TIMBRE_SE_MODE, Value={Ref=SeMode}"), worker);
        Map<String, Object> parameter = Template.map(template.section("Parameters")
                .get("SeMode"), "SeMode");
        assertEquals("get-se", parameter.get("Default"));
        assertEquals(List.of("get-se", "extract-se"), parameter.get("AllowedValues"));
    }
}
