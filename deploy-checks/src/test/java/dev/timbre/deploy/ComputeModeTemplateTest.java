package dev.timbre.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * template.yaml rendered for every ComputeMode x provisioned pollers off/on (conditions evaluated, Fn::If resolved,
 * as CloudFormation would): each rendering has exactly one function, on the jobs queue, with the same image and
 * environment, on the right compute (VPC on demand, the matching capacity provider on managed instances), and the
 * SQS event source in provisioned mode exactly when MinimumPollers is not 0. CfnLintTest lints each rendering.
 */
class ComputeModeTemplateTest {

    static final String ON_DEMAND = "VoiceEmbeddingFunction";
    static final String MANAGED = "VoiceEmbeddingManagedFunction";
    static final Map<String, String> PROVIDER = Map.of(
            "ManagedInstancesCpu", "ManagedCpuCapacityProvider",
            "ManagedInstancesGpu", "ManagedGpuCapacityProvider");

    static Template template;

    @BeforeAll
    static void load() throws Exception {
        template = Template.load(Repo.file("template.yaml"));
    }

    /** Every ComputeMode the parameter allows x MinimumPollers 0 (off) and its MinValue.. limits (on). */
    static Stream<Map<String, String>> renderings() {
        List<Map<String, String>> out = new ArrayList<>();
        for (String mode : template().candidateValues("ComputeMode")) {
            out.add(Map.of("ComputeMode", mode, "MinimumPollers", "0"));
            out.add(Map.of("ComputeMode", mode, "MinimumPollers", "2", "MaximumPollers", "20"));
        }
        return out.stream();
    }

    static Template template() {
        if (template == null) {
            try {
                load();
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        }
        return template;
    }

    @Test
    void computeModeOffersOnDemandAndManagedInstancesOnCpuAndGpu() {
        assertEquals(List.of("OnDemand", "ManagedInstancesCpu", "ManagedInstancesGpu"),
                template.candidateValues("ComputeMode"));
        assertEquals("OnDemand", Template.map(template.section("Parameters").get("ComputeMode"), "ComputeMode")
                .get("Default"), "on demand stays the default: existing stacks keep their compute");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("renderings")
    void exactlyOneFunctionConsumesTheJobsQueueOnTheChosenCompute(Map<String, String> choice) {
        Template r = template.render(choice);
        List<String> functions = r.resourcesOfType("AWS::Serverless::Function");
        String mode = choice.get("ComputeMode");
        String expected = mode.equals("OnDemand") ? ON_DEMAND : MANAGED;
        assertEquals(List.of(expected), functions, "functions rendered for " + choice);

        Map<String, Object> fn = r.properties(expected);
        Map<String, Object> onDemand = template.properties(ON_DEMAND);
        for (String same : List.of("PackageType", "ImageConfig", "Architectures", "Role", "Environment", "Events",
                "MemorySize", "Timeout", "FunctionName")) {
            assertEquals(onDemand.get(same), template.properties(MANAGED).get(same),
                    same + " is the same in both compute modes");
        }
        assertEquals(template.resource(ON_DEMAND).get("Metadata"), template.resource(MANAGED).get("Metadata"),
                "both functions are built from the same Dockerfile");

        Set<String> providers = Set.copyOf(r.resourcesOfType("AWS::Serverless::CapacityProvider"));
        if (mode.equals("OnDemand")) {
            assertTrue(providers.isEmpty(), "no capacity provider on demand: " + providers);
            assertNull(fn.get("CapacityProviderConfig"));
            Map<String, Object> vpc = Template.map(fn.get("VpcConfig"), "VpcConfig");
            assertEquals(Map.of("Ref", "PrivateSubnetIds"), vpc.get("SubnetIds"));
        } else {
            String provider = PROVIDER.get(mode);
            assertEquals(Set.of(provider), providers, "exactly the capacity provider of " + mode);
            assertNull(fn.get("VpcConfig"), "SAM rejects VpcConfig next to CapacityProviderConfig");
            Map<String, Object> cp = Template.map(fn.get("CapacityProviderConfig"), "CapacityProviderConfig");
            assertEquals(Map.of("Fn::GetAtt", List.of(provider, "Arn")), cp.get("Arn"));
            assertEquals(Map.of("Ref", "PerEnvironmentMaxConcurrency"), cp.get("PerExecutionEnvironmentMaxConcurrency"));
            assertEquals(Map.of("Ref", "MemoryGiBPerVCpu"), cp.get("ExecutionEnvironmentMemoryGiBPerVCpu"));

            Map<String, Object> p = r.properties(provider);
            Map<String, Object> vpc = Template.map(p.get("VpcConfig"), provider + ".VpcConfig");
            assertEquals(Map.of("Ref", "PrivateSubnetIds"), vpc.get("SubnetIds"),
                    "the instances sit in the private subnets that reach Postgres and Qdrant");
            assertEquals(List.of(Map.of("Ref", "FunctionSecurityGroup")), vpc.get("SecurityGroupIds"),
                    "the function's security group moves to the capacity provider (Postgres/Qdrant ingress rules)");
            Map<String, Object> req = Template.map(p.get("InstanceRequirements"), "InstanceRequirements");
            assertEquals(List.of("x86_64"), req.get("Architectures"), "the image bundles x86_64 PyTorch natives");
            @SuppressWarnings("unchecked")
            List<String> types = (List<String>) req.get("AllowedTypes");
            assertFalse(types.isEmpty());
            for (String type : types) {
                boolean gpu = type.matches("^(g4dn|g5|g6|g6e|p4d|p5)\\..+");
                assertEquals(mode.equals("ManagedInstancesGpu"), gpu,
                        type + ": the " + mode + " provider admits only " + (gpu ? "CPU" : "GPU") + " instance types");
            }
            assertEquals(Map.of("Ref", "ManagedInstancesMaxVCpu"),
                    Template.map(p.get("ScalingConfig"), "ScalingConfig").get("MaxVCpuCount"),
                    "a ceiling on the instances Lambda may launch");
        }

        Map<String, Object> sqs = Template.map(
                Template.map(Template.map(fn.get("Events"), "Events").get("Jobs"), "Jobs").get("Properties"), "Jobs");
        assertEquals(Map.of("Fn::GetAtt", List.of("JobsQueue", "Arn")), sqs.get("Queue"));
        assertEquals(List.of("ReportBatchItemFailures"), sqs.get("FunctionResponseTypes"));
        Object pollers = sqs.get("ProvisionedPollerConfig");
        if (choice.get("MinimumPollers").equals("0")) {
            assertNull(pollers, "MinimumPollers 0 means on-demand polling");
        } else {
            Map<String, Object> pc = Template.map(pollers, "ProvisionedPollerConfig");
            assertEquals(Map.of("MinimumPollers", Map.of("Ref", "MinimumPollers"),
                    "MaximumPollers", Map.of("Ref", "MaximumPollers")), pc);
            assertEquals(new BigDecimal(choice.get("MinimumPollers")),
                    r.number(pc.get("MinimumPollers"), choice));
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("renderings")
    void everyReferenceInTheRenderingHasItsTarget(Map<String, String> choice) {
        Template r = template.render(choice);
        Set<String> resources = r.section("Resources").keySet();
        Set<String> parameters = r.section("Parameters").keySet();
        for (Template.Reference ref : r.references()) {
            String t = ref.target();
            boolean ok = switch (ref.kind()) {
                case REF, SUB -> resources.contains(t) || parameters.contains(t)
                        || Template.PSEUDO_PARAMETERS.contains(t);
                case GET_ATT, DEPENDS_ON -> resources.contains(t);
                case FIND_IN_MAP -> r.section("Mappings").containsKey(t);
                case CONDITION -> false; // rendering resolves every condition
            };
            assertTrue(ok, ref + " has no target when " + choice);
        }
        assertNotNull(r.section("Outputs").get("VoiceEmbeddingFunctionName"));
    }

    /**
     * The AWS limits of the provisioned mode (MinimumPollers 1..200, MaximumPollers 1..2000) and of managed
     * instances (PerExecutionEnvironmentMaxConcurrency 1..64 for Java here) hold for every value the parameters
     * allow; MinimumPollers 0 is this template's "off".
     */
    @Test
    void pollerAndConcurrencyRangesAreWithinAwsLimits() {
        assertRange("MinimumPollers", 0, 200);
        assertRange("MaximumPollers", 1, 2000);
        assertRange("PerEnvironmentMaxConcurrency", 1, 64);
        assertEquals(List.of("2", "4", "8"), template.candidateValues("MemoryGiBPerVCpu"),
                "the ratios Lambda Managed Instances accept");
    }

    private static void assertRange(String parameter, int min, int max) {
        Map<String, Object> p = Template.map(template.section("Parameters").get(parameter), parameter);
        assertEquals(min, ((Number) p.get("MinValue")).intValue(), parameter + " MinValue");
        assertEquals(max, ((Number) p.get("MaxValue")).intValue(), parameter + " MaxValue");
    }
}
