package dev.timbre.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.math.BigDecimal;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * template.yaml against the rules of AWS that users get wrong (each is stated in AWS's documentation of the resource type).
 * Range rules are checked for every value the parameters allow (their AllowedValues, else Min/Max/Default), not
 * just the defaults, so no deployable choice can break them.
 */
class TemplateRulesTest {

    static final String FUNCTION = "VoiceEmbeddingFunction";
    static final String QUEUE = "JobsQueue";
    static final String DLQ = "JobsDeadLetterQueue";

    static Template template;

    @BeforeAll
    static void load() throws Exception {
        template = Template.load(Repo.file("template.yaml"));
    }

    static Map<String, Object> sqsEvent() {
        Map<String, Object> events = Template.map(template.properties(FUNCTION).get("Events"), "Events");
        List<Map<String, Object>> sqs = new ArrayList<>();
        events.forEach((name, e) -> {
            Map<String, Object> event = Template.map(e, name);
            if ("SQS".equals(event.get("Type"))) {
                sqs.add(Template.map(event.get("Properties"), name + ".Properties"));
            }
        });
        assertEquals(1, sqs.size(), "the function has exactly one SQS event");
        return sqs.get(0);
    }

    /** Checks {@code rule} for every choice of the parameters the two values depend on. */
    static void forEveryChoice(Object a, Object b, String rule, RangeRule check) {
        Set<String> params = new LinkedHashSet<>(template.parametersIn(a));
        params.addAll(template.parametersIn(b));
        for (Map<String, String> choice : template.choices(params)) {
            BigDecimal x = template.number(a, choice);
            BigDecimal y = b == null ? null : template.number(b, choice);
            assertTrue(check.holds(x, y), rule + " is broken for parameters " + choice + " (values " + x + ", " + y + ")");
        }
    }

    interface RangeRule {
        boolean holds(BigDecimal a, BigDecimal b);
    }

    @Nested
    class References {

        @Test
        void everyRefGetAttAndSubTargetExists() {
            Set<String> parameters = template.section("Parameters").keySet();
            Set<String> resources = template.section("Resources").keySet();
            List<String> broken = new ArrayList<>();
            for (Template.Reference r : template.references()) {
                boolean ok = switch (r.kind()) {
                    case REF, SUB -> parameters.contains(r.target()) || resources.contains(r.target())
                            || Template.PSEUDO_PARAMETERS.contains(r.target());
                    case GET_ATT, DEPENDS_ON -> resources.contains(r.target());
                    case CONDITION -> template.section("Conditions").containsKey(r.target());
                    case FIND_IN_MAP -> template.section("Mappings").containsKey(r.target());
                };
                if (!ok) {
                    broken.add(r.kind() + " " + r.target() + " at " + r.where());
                }
            }
            assertEquals(List.of(), broken, "references to nothing");
        }

        @Test
        void aConditionalResourceIsReferencedOnlyWhereItsConditionHolds() {
            // A Ref to a resource whose Condition is false fails the deploy ("Unresolved resource dependencies").
            // Checked on the template as rendered for every combination of the values the conditions depend on
            // (an !If's false branch holds exactly when its condition does not: no syntactic rule can see that).
            Set<String> inConditions = new LinkedHashSet<>(template.parametersIn(template.section("Conditions")));
            List<Map<String, String>> choices = new ArrayList<>();
            choices.add(new java.util.LinkedHashMap<>());
            for (String p : inConditions) {
                List<String> values = new ArrayList<>(template.candidateValues(p));
                if (values.contains("")) {
                    values.add("set"); // "empty means off" parameters: both sides
                }
                List<Map<String, String>> next = new ArrayList<>();
                for (Map<String, String> c : choices) {
                    for (String v : values) {
                        Map<String, String> extended = new java.util.LinkedHashMap<>(c);
                        extended.put(p, v);
                        next.add(extended);
                    }
                }
                choices = next;
            }
            assertTrue(choices.size() > 1, "conditions depend on parameters " + inConditions);
            Set<String> broken = new LinkedHashSet<>();
            for (Map<String, String> choice : choices) {
                Template rendered = template.render(choice);
                Set<String> resources = rendered.section("Resources").keySet();
                for (Template.Reference r : rendered.references()) {
                    if (template.section("Resources").containsKey(r.target()) && !resources.contains(r.target())) {
                        broken.add(r.target() + " (Condition " + template.conditionOf("Resources", r.target())
                                + ") used at " + r.where() + " when " + choice);
                    }
                }
            }
            assertEquals(Set.of(), broken);
        }

        @Test
        void everyParameterAndConditionIsUsed() {
            Set<String> used = new LinkedHashSet<>();
            template.references().forEach(r -> used.add(r.target()));
            List<String> unused = new ArrayList<>();
            template.section("Parameters").keySet().forEach(p -> {
                if (!used.contains(p)) {
                    unused.add("parameter " + p);
                }
            });
            template.section("Conditions").keySet().forEach(c -> {
                if (!used.contains(c)) {
                    unused.add("condition " + c);
                }
            });
            assertEquals(List.of(), unused);
        }
    }

    @Nested
    class Function {

        @Test
        void isAContainerImageThatSamCanBuild() {
            Map<String, Object> fn = template.resource(FUNCTION);
            assertEquals("AWS::Serverless::Function", fn.get("Type"));
            Map<String, Object> p = template.properties(FUNCTION);
            assertEquals("Image", p.get("PackageType"));
            for (String forbidden : List.of("Runtime", "Handler", "Layers", "CodeUri")) {
                assertFalse(p.containsKey(forbidden), forbidden + " is rejected for PackageType Image");
            }
            Map<String, Object> metadata = Template.map(fn.get("Metadata"), "Metadata");
            for (String key : List.of("Dockerfile", "DockerContext", "DockerTag")) {
                assertNotNull(metadata.get(key), "Metadata." + key + " (sam build needs Dockerfile and DockerContext)");
            }
            var dockerfile = Repo.root().resolve(String.valueOf(metadata.get("DockerContext")))
                    .resolve(String.valueOf(metadata.get("Dockerfile"))).normalize();
            assertTrue(Files.isRegularFile(dockerfile), "Dockerfile exists at " + dockerfile);
        }

        @Test
        void handlerNamedInTheTemplateImplementsTheSqsBatchContract() throws Exception {
            String handler = HandlerContract.handlerOf(template);
            HandlerContract.assertSqsBatchHandler(handler);
        }

        @Test
        void memoryTimeoutAndEphemeralStorageAreWithinLambdaLimits() {
            Map<String, Object> p = template.properties(FUNCTION);
            forEveryChoice(p.get("MemorySize"), null, "memory 128..10240 MB",
                    (m, x) -> m.intValue() >= 128 && m.intValue() <= 10240);
            forEveryChoice(p.get("Timeout"), null, "timeout 1..900 s",
                    (t, x) -> t.intValue() >= 1 && t.intValue() <= 900);
            Object storage = Template.map(p.get("EphemeralStorage"), "EphemeralStorage").get("Size");
            forEveryChoice(storage, null, "ephemeral storage 512..10240 MB",
                    (s, x) -> s.intValue() >= 512 && s.intValue() <= 10240);
        }

        @Test
        void runsInTheVpcWithItsOwnSecurityGroup() {
            Map<String, Object> vpc = Template.map(template.properties(FUNCTION).get("VpcConfig"), "VpcConfig");
            assertNotNull(vpc.get("SubnetIds"));
            assertNotNull(vpc.get("SecurityGroupIds"));
        }
    }

    @Nested
    class SqsTrigger {

        @Test
        void reportsBatchItemFailuresOrEveryFailureWouldDeleteTheWholeBatch() {
            assertEquals(List.of("ReportBatchItemFailures"), sqsEvent().get("FunctionResponseTypes"));
        }

        @Test
        void triggersFromTheJobsQueue() {
            assertEquals(Map.of("Fn::GetAtt", List.of(QUEUE, "Arn")), sqsEvent().get("Queue"));
        }

        @Test
        void maximumConcurrencyIsBetween2And1000() {
            Object c = Template.map(sqsEvent().get("ScalingConfig"), "ScalingConfig").get("MaximumConcurrency");
            assertNotNull(c, "ScalingConfig.MaximumConcurrency");
            forEveryChoice(c, null, "MaximumConcurrency 2..1000", (v, x) -> v.intValue() >= 2 && v.intValue() <= 1000);
        }

        @Test
        void batchSizeAboveTenNeedsABatchingWindowOfAtLeastOneSecond() {
            Object size = sqsEvent().get("BatchSize");
            Object window = sqsEvent().get("MaximumBatchingWindowInSeconds");
            assertNotNull(size, "BatchSize");
            assertNotNull(window, "MaximumBatchingWindowInSeconds");
            forEveryChoice(size, window, "BatchSize > 10 => MaximumBatchingWindowInSeconds >= 1",
                    (s, w) -> s.intValue() <= 10 || w.intValue() >= 1);
            forEveryChoice(size, null, "BatchSize 1..10000", (s, x) -> s.intValue() >= 1 && s.intValue() <= 10000);
            forEveryChoice(window, null, "window 0..300", (w, x) -> w.intValue() >= 0 && w.intValue() <= 300);
        }

        @Test
        void visibilityTimeoutIsAtLeastSixTimesTheFunctionTimeout() {
            Object timeout = template.properties(FUNCTION).get("Timeout");
            Object visibility = template.properties(QUEUE).get("VisibilityTimeout");
            assertNotNull(visibility, "JobsQueue.VisibilityTimeout");
            forEveryChoice(visibility, timeout, "visibility >= 6 x timeout",
                    (v, t) -> v.compareTo(t.multiply(BigDecimal.valueOf(6))) >= 0 && v.intValue() <= 43200);
        }
    }

    @Nested
    class Queues {

        @Test
        void deadLetterQueueTakesMessagesAfterAtLeastFiveReceives() {
            Map<String, Object> redrive = Template.map(template.properties(QUEUE).get("RedrivePolicy"), "RedrivePolicy");
            assertEquals(Map.of("Fn::GetAtt", List.of(DLQ, "Arn")), redrive.get("deadLetterTargetArn"));
            forEveryChoice(redrive.get("maxReceiveCount"), null, "maxReceiveCount >= 5 (throttling must not dead-letter)",
                    (n, x) -> n.intValue() >= 5);
        }

        @Test
        void theHandlersGiveUpCountIsTheRedriveCount() {
            Map<String, Object> redrive = Template.map(template.properties(QUEUE).get("RedrivePolicy"), "RedrivePolicy");
            Map<String, Object> env = EnvironmentContractTest.functionEnvironment(template);
            assertEquals(redrive.get("maxReceiveCount"), env.get("TIMBRE_MAX_RECEIVES"),
                    "TIMBRE_MAX_RECEIVES must be the redrive maxReceiveCount (docs/architecture.md §6: FAILED on the last receive)");
        }

        @Test
        void bothQueuesAreEncryptedAndSizedExplicitly() {
            for (String q : List.of(QUEUE, DLQ)) {
                Map<String, Object> p = template.properties(q);
                assertEquals(true, p.get("SqsManagedSseEnabled"), q + " SSE");
                assertEquals(262144, p.get("MaximumMessageSize"), q + " MaximumMessageSize (docs/architecture.md §2: 256 KiB)");
            }
        }

        @Test
        void deadLetterQueueKeepsMessagesLongerThanTheSourceQueue() {
            // For standard queues the enqueue timestamp survives the move; a shorter DLQ retention loses messages.
            int source = (Integer) template.properties(QUEUE).get("MessageRetentionPeriod");
            int dlq = (Integer) template.properties(DLQ).get("MessageRetentionPeriod");
            assertTrue(dlq > source, "DLQ retention " + dlq + " > queue retention " + source);
        }

        @Test
        void redriveAllowPolicyNamesTheJobsQueue() {
            Map<String, Object> allow = Template.map(template.properties(DLQ).get("RedriveAllowPolicy"), "RedriveAllow");
            String arn = String.valueOf(Template.map(((List<?>) allow.get("sourceQueueArns")).get(0), "arn").get("Fn::Sub"));
            String name = String.valueOf(Template.map(template.properties(QUEUE).get("QueueName"), "QueueName").get("Fn::Sub"));
            assertTrue(arn.endsWith(":" + name), arn + " names queue " + name);
        }
    }

    @Nested
    class Ecs {

        @Test
        void gpuWorkerAsksForAGpuAndDoesNotRunOnFargate() {
            Map<String, Object> td = template.properties("WorkerTaskDefinition");
            assertFalse(String.valueOf(td.get("RequiresCompatibilities")).contains("FARGATE"), "GPUs are not on Fargate");
            Map<String, Object> container = Template.map(((List<?>) td.get("ContainerDefinitions")).get(0), "worker");
            assertEquals(List.of(Map.of("Type", "GPU", "Value", "1")), container.get("ResourceRequirements"));
            assertEquals(List.of("java", "-cp", "/opt/timbre/classes:/opt/timbre/lib/*", "dev.timbre.ecs.EcsWorkerMain"),
                    container.get("Command"));
            assertEquals("GpuWorkerEnabled", template.conditionOf("Resources", "WorkerTaskDefinition"));
            Map<String, Object> service = template.properties("GpuWorkerService");
            assertFalse(service.containsKey("LaunchType"), "a capacity provider strategy, not a launch type");
            assertNotNull(service.get("CapacityProviderStrategy"));
        }

        @Test
        void gpuInstancesKeepTasksAwayFromTheInstanceRole() {
            // The instance role can do what the ECS agent does; a task must reach only its own task role. awsvpc
            // tasks are cut off from IMDS by the agent flag, anything in a bridge or container network by the IMDSv2
            // hop limit of 1 (the extra hop through the container network exceeds it; host processes keep it).
            Map<String, Object> data = Template.map(template.properties("GpuLaunchTemplate").get("LaunchTemplateData"),
                    "LaunchTemplateData");
            Map<String, Object> metadata = Template.map(data.get("MetadataOptions"), "MetadataOptions");
            assertEquals("required", metadata.get("HttpTokens"), "IMDSv2 only");
            assertEquals(1, metadata.get("HttpPutResponseHopLimit"), "tokens do not leave the host network");
            String userData = String.valueOf(data.get("UserData"));
            assertTrue(userData.contains("ECS_AWSVPC_BLOCK_IMDS=true"), "ECS agent blocks IMDS for awsvpc tasks: " + userData);
            assertTrue(userData.contains("/etc/ecs/ecs.config"), userData);
        }

        @Test
        void gpuWorkerScalesOnBacklogPerTaskAndCanReachZero() {
            Map<String, Object> target = template.properties("GpuWorkerScalableTarget");
            forEveryChoice(target.get("MinCapacity"), null, "MinCapacity >= 0", (m, x) -> m.signum() >= 0);
            Map<String, Object> minParam = Template.map(template.section("Parameters").get(
                    String.valueOf(Template.map(target.get("MinCapacity"), "MinCapacity").get("Ref"))), "min");
            assertEquals(0, minParam.get("MinValue"), "scale to zero is allowed");
            Map<String, Object> policy = template.properties("GpuWorkerBacklogScaling");
            assertEquals("TargetTrackingScaling", policy.get("PolicyType"));
            Map<String, Object> spec = Template.map(Template.map(policy.get("TargetTrackingScalingPolicyConfiguration"),
                    "tt").get("CustomizedMetricSpecification"), "spec");
            List<?> metrics = (List<?>) spec.get("Metrics");
            String all = metrics.toString();
            assertTrue(all.contains("ApproximateNumberOfMessagesVisible") && all.contains("RunningTaskCount"), all);
            long returned = metrics.stream().filter(m -> Boolean.TRUE.equals(Template.map(m, "m").get("ReturnData"))).count();
            assertEquals(1, returned, "target tracking needs exactly one returned series");
            assertTrue(template.properties("Cluster").toString().contains("containerInsights"),
                    "RunningTaskCount comes from Container Insights");
        }

        @Test
        void bridgeRunsOnFargateWithTheAmqpUrlAsASecretAndAHealthCheck() {
            Map<String, Object> td = template.properties("BridgeTaskDefinition");
            assertEquals(List.of("FARGATE"), td.get("RequiresCompatibilities"));
            Map<String, Object> c = Template.map(((List<?>) td.get("ContainerDefinitions")).get(0), "bridge");
            assertTrue(String.valueOf(c.get("Secrets")).contains("TIMBRE_AMQP_URL"), "AMQP URL from Secrets Manager");
            assertFalse(String.valueOf(c.get("Environment")).contains("TIMBRE_AMQP_URL"), "never in plain environment");
            assertTrue(String.valueOf(c.get("HealthCheck")).contains("/healthz"));
            assertEquals("FARGATE", template.properties("BridgeService").get("LaunchType"));
        }

        @Test
        void everyServiceContainerHasAHealthCheckOnHealthz() {
            for (String td : template.resourcesOfType("AWS::ECS::TaskDefinition")) {
                for (Object c : (List<?>) template.properties(td).get("ContainerDefinitions")) {
                    Object check = Template.map(c, td).get("HealthCheck");
                    assertTrue(String.valueOf(check).contains("/healthz"), td + " health check: " + check);
                }
            }
        }

        @Test
        void everyContainerLogsToCloudWatch() {
            for (String td : template.resourcesOfType("AWS::ECS::TaskDefinition")) {
                for (Object c : (List<?>) template.properties(td).get("ContainerDefinitions")) {
                    Map<String, Object> log = Template.map(Template.map(c, td).get("LogConfiguration"), td + " logs");
                    assertEquals("awslogs", log.get("LogDriver"), td);
                }
            }
        }
    }

    @Nested
    class AlarmsAndOutputs {

        @Test
        void theFourAlarmsExistAndNotify() {
            List<String> watched = new ArrayList<>();
            for (String id : template.resourcesOfType("AWS::CloudWatch::Alarm")) {
                Map<String, Object> p = template.properties(id);
                assertNotNull(p.get("AlarmActions"), id + " notifies somebody");
                if (p.containsKey("Metrics")) {
                    continue; // metric math (the outbox-age alarm): CompletionEvents checks it
                }
                watched.add(p.get("Namespace") + "/" + p.get("MetricName") + "/"
                        + Template.map(((List<?>) p.get("Dimensions")).get(0), id).get("Value"));
            }
            String all = watched.toString();
            assertTrue(all.contains("AWS/SQS/ApproximateNumberOfMessagesVisible/{Fn::GetAtt=[" + DLQ), all);
            assertTrue(all.contains("AWS/SQS/ApproximateAgeOfOldestMessage/{Fn::GetAtt=[" + QUEUE), all);
            // the function alarms watch whichever function the ComputeMode deploys
            for (String mode : template.candidateValues("ComputeMode")) {
                Template rendered = template.render(Map.of("ComputeMode", mode));
                String function = rendered.resourcesOfType("AWS::Serverless::Function").get(0);
                List<String> dims = new ArrayList<>();
                for (String id : rendered.resourcesOfType("AWS::CloudWatch::Alarm")) {
                    Map<String, Object> p = rendered.properties(id);
                    if (p.containsKey("Metrics")) {
                        continue; // metric math (the outbox-age alarm), as above
                    }
                    dims.add(p.get("Namespace") + "/" + p.get("MetricName") + "/"
                            + Template.map(((List<?>) p.get("Dimensions")).get(0), id).get("Value"));
                }
                String r = dims.toString();
                assertTrue(r.contains("AWS/Lambda/Errors/{Ref=" + function + "}"), mode + ": " + r);
                assertTrue(r.contains("AWS/Lambda/Throttles/{Ref=" + function + "}"), mode + ": " + r);
            }
        }

        @Test
        void outputsGiveTheQueueUrlsAndTheFunctionArn() {
            Map<String, Object> outputs = template.section("Outputs");
            assertEquals(Map.of("Ref", QUEUE), Template.map(outputs.get("JobsQueueUrl"), "o").get("Value"));
            assertEquals(Map.of("Ref", DLQ), Template.map(outputs.get("DeadLetterQueueUrl"), "o").get("Value"));
            for (String mode : template.candidateValues("ComputeMode")) {
                Template rendered = template.render(Map.of("ComputeMode", mode));
                String function = rendered.resourcesOfType("AWS::Serverless::Function").get(0);
                assertEquals(Map.of("Fn::GetAtt", List.of(function, "Arn")),
                        Template.map(rendered.section("Outputs").get("VoiceEmbeddingFunctionArn"), "o").get("Value"),
                        mode);
            }
        }
    }

    @Test
    void templateDeclaresTheSamTransform() {
        assertEquals("AWS::Serverless-2016-10-31", template.root().get("Transform"));
        assertEquals("2010-09-09", template.root().get("AWSTemplateFormatVersion"));
    }

    @Nested
    class CompletionEvents {

        @Test
        void theFunctionAndTheWorkerPublishToTheStacksBus() {
            Map<String, Object> bus = Map.of("Ref", "CompletionEventBus");
            assertEquals("AWS::Events::EventBus", template.resource("CompletionEventBus").get("Type"));
            assertEquals(bus, EnvironmentContractTest.functionEnvironment(template).get("TIMBRE_EVENTS_BUS"));
            assertTrue(template.properties("WorkerTaskDefinition").toString()
                    .contains("Name=TIMBRE_EVENTS_BUS, Value={Ref=CompletionEventBus}"), "worker publishes to the bus");
        }

        @Test
        void theExampleRuleSendsEveryCompletionEventToAQueueThatOnlyItMayWriteTo() {
            Map<String, Object> rule = template.properties("CompletionEventsRule");
            assertEquals(Map.of("Ref", "CompletionEventBus"), rule.get("EventBusName"));
            Map<String, Object> pattern = Template.map(rule.get("EventPattern"), "EventPattern");
            assertEquals(List.of("timbre"), pattern.get("source"));
            assertEquals(List.of("Voice Embedding Completed", "Voice Embedding Failed"), pattern.get("detail-type"));
            Map<String, Object> target = Template.map(((List<?>) rule.get("Targets")).get(0), "Targets[0]");
            assertEquals(Map.of("Fn::GetAtt", List.of("CompletionEventsQueue", "Arn")), target.get("Arn"));
            String policy = template.properties("CompletionEventsQueuePolicy").toString();
            assertTrue(policy.contains("Service=events.amazonaws.com"), policy);
            assertTrue(policy.contains("aws:SourceArn={Fn::GetAtt=[CompletionEventsRule, Arn]}"),
                    "only the rule may send: " + policy);
            assertTrue(policy.contains("aws:SecureTransport=false"), "TLS only: " + policy);
            assertEquals(true, template.properties("CompletionEventsQueue").get("SqsManagedSseEnabled"));
        }

        /**
         * Events left unpublished by an environment that crashed reach the bus on an idle queue too: a schedule
         * invokes the function (both compute modes share the events) with the committed empty batch, which the
         * handler answers by sweeping the outbox (ScheduledSweepTest).
         */
        @Test
        void aScheduleSweepsTheOutboxWhileNoJobsArrive() throws Exception {
            for (String function : List.of("VoiceEmbeddingFunction", "VoiceEmbeddingManagedFunction")) {
                Map<String, Object> events = Template.map(template.properties(function).get("Events"), "Events");
                Map<String, Object> sweep = Template.map(events.get("OutboxSweep"), function + " OutboxSweep");
                assertEquals("Schedule", sweep.get("Type"));
                Map<String, Object> p = Template.map(sweep.get("Properties"), "OutboxSweep.Properties");
                assertTrue(String.valueOf(p.get("Schedule")).matches("rate\\(\\d+ minutes?\\)"), p.toString());
                ObjectMapper json = new ObjectMapper();
                assertEquals(json.readTree(Files.readString(Repo.file("infra/events/outbox-sweep.json"))),
                        json.readTree(String.valueOf(p.get("Input"))), "the input is the committed empty batch");
            }
        }

        @Test
        void anAlarmWatchesTheAgeOfTheOutbox() {
            String alarm = template.properties("EventOutboxAgeAlarm").toString();
            assertTrue(alarm.contains("MetricName=EventOutboxAgeSeconds"), alarm);
            assertTrue(alarm.contains("Value=timbre-lambda") && alarm.contains("Value=timbre-ecs"),
                    "both publishers' metric: " + alarm);
            assertTrue(alarm.contains("Threshold={Ref=EventOutboxAgeAlarmSeconds}"), alarm);
        }
    }
}
