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
import java.util.TreeMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * template.yaml rendered for every ComputeMode x provisioned pollers off/on x SnapStart off/on, and every GpuMemoryGiB on
 * the GPU mode (conditions evaluated, Fn::If resolved,
 * as CloudFormation would): each rendering has exactly one function, on the jobs queue, with the same image and
 * environment, on the right compute (VPC on demand, the matching capacity provider on managed instances), and the
 * SQS event source in provisioned mode exactly when MinimumPollers is not 0, SnapStart exactly when asked for on demand,
 * a GPU (AcceleratorConfig) exactly on the GPU mode. CfnLintTest lints each rendering.
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

    /**
     * Every ComputeMode the parameter allows x MinimumPollers 0 (off) and on x SnapStart off and on; on the GPU mode
     * also every GpuMemoryGiB the parameter allows (the rest at their defaults).
     */
    static Stream<Map<String, String>> renderings() {
        List<Map<String, String>> out = new ArrayList<>();
        for (String mode : template().candidateValues("ComputeMode")) {
            for (String snapStart : template().candidateValues("SnapStart")) {
                out.add(Map.of("ComputeMode", mode, "MinimumPollers", "0", "SnapStart", snapStart));
                out.add(Map.of("ComputeMode", mode, "MinimumPollers", "2", "MaximumPollers", "20",
                        "SnapStart", snapStart));
            }
            if (mode.equals("ManagedInstancesGpu")) {
                for (String gib : template().candidateValues("GpuMemoryGiB")) {
                    out.add(Map.of("ComputeMode", mode, "MinimumPollers", "0", "SnapStart", "false",
                            "GpuMemoryGiB", gib));
                }
            }
        }
        return out.stream();
    }

    /** A file name for one rendering: its choices, in a fixed order. */
    static String name(Map<String, String> choice) {
        StringBuilder b = new StringBuilder("rendered");
        new TreeMap<>(choice).forEach((k, v) -> b.append('-').append(k).append(v));
        return b.toString();
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

        // SnapStart: the on-demand function's published versions only, when asked for; Lambda Managed Instances has
        // no SnapStart (its environments are long-lived and start ahead of traffic)
        Object snapStart = fn.get("SnapStart");
        if (mode.equals("OnDemand") && choice.get("SnapStart").equals("true")) {
            assertEquals(Map.of("ApplyOn", "PublishedVersions"), snapStart, "SnapStart on for " + choice);
            assertEquals("live", fn.get("AutoPublishAlias"), "SnapStart applies to published versions only");
            assertEquals(new BigDecimal(512), r.number(Template.map(fn.get("EphemeralStorage"), "EphemeralStorage")
                    .get("Size"), choice), "SnapStart needs the default 512 MB of /tmp");
        } else {
            assertNull(snapStart, "no SnapStart for " + choice);
        }

        // AcceleratorConfig: a GPU per execution environment exactly on the GPU provider, of the chosen size
        Object accelerator = fn.get("AcceleratorConfig");
        if (mode.equals("ManagedInstancesGpu")) {
            Map<String, Object> ac = Template.map(accelerator, "AcceleratorConfig");
            assertEquals(Map.of("AcceleratorMemorySize", Map.of("Ref", "GpuMemoryGiB")), ac);
            BigDecimal gib = r.number(ac.get("AcceleratorMemorySize"), choice);
            assertEquals(new BigDecimal(choice.getOrDefault("GpuMemoryGiB", "24")), gib);
            assertTrue(LAMBDA_ACCELERATOR_GIB.contains(gib.intValue()), gib + " GiB is a size Lambda offers");
            assertNotNull(fn.get("CapacityProviderConfig"), "AcceleratorConfig needs a capacity provider");
            assertEquals("Image", fn.get("PackageType"), "AcceleratorConfig needs an image function");
            assertEquals(List.of("x86_64"), fn.get("Architectures"), "AcceleratorConfig needs x86_64");
        } else {
            assertNull(accelerator, "no GPU asked for on " + mode);
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

    /** The AcceleratorMemorySize values Lambda accepts (AWS::Lambda::Function AcceleratorConfig). */
    static final Set<Integer> LAMBDA_ACCELERATOR_GIB = Set.of(3, 6, 12, 16, 24, 48);

    /** GPU memory per GPU of the instance families a GPU provider may admit (NVIDIA T4, A10G, L4, L40S, A100, H100). */
    static final Map<String, Integer> GPU_GIB = Map.of("g4dn", 16, "g5", 24, "g6", 24, "g6e", 48, "p4d", 40, "p5", 80);

    /**
     * Every GpuMemoryGiB the parameter allows is a size Lambda offers and fits the GPU of every instance type the GPU
     * capacity provider admits: a size no admitted instance has would leave the function without capacity.
     */
    @Test
    void everyGpuMemoryChoiceFitsEveryAdmittedGpuInstance() {
        Map<String, Object> req = Template.map(template.properties("ManagedGpuCapacityProvider")
                .get("InstanceRequirements"), "InstanceRequirements");
        @SuppressWarnings("unchecked")
        List<String> types = (List<String>) req.get("AllowedTypes");
        List<String> choices = template.candidateValues("GpuMemoryGiB");
        assertFalse(choices.isEmpty());
        for (String choice : choices) {
            int gib = Integer.parseInt(choice);
            assertTrue(LAMBDA_ACCELERATOR_GIB.contains(gib), gib + " GiB is not a size Lambda offers");
            for (String type : types) {
                Integer has = GPU_GIB.get(type.substring(0, type.indexOf('.')));
                assertNotNull(has, type + ": GPU memory unknown to this test");
                assertTrue(gib <= has, "GpuMemoryGiB " + gib + " does not fit " + type + " (" + has + " GB)");
            }
        }
    }

    private static void assertRange(String parameter, int min, int max) {
        Map<String, Object> p = Template.map(template.section("Parameters").get(parameter), parameter);
        assertEquals(min, ((Number) p.get("MinValue")).intValue(), parameter + " MinValue");
        assertEquals(max, ((Number) p.get("MaxValue")).intValue(), parameter + " MaxValue");
    }
}
