package dev.timbre.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Least privilege: no Allow statement grants every resource ('*') unless all its actions are ones AWS offers no
 * resource-level scope for, and each such exception is explained in docs/operations.md.
 */
class IamScopeTest {

    /** Actions that have no resource-level permissions (Service Authorization Reference), so '*' is the only form. */
    static final Set<String> UNSCOPABLE = Set.of(
            "ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface",
            "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses",
            "ecr:GetAuthorizationToken",
            "cloudwatch:PutMetricData");

    /** AWS managed policies allowed on a role, each documented in operations.md. */
    static final Set<String> MANAGED_POLICIES = Set.of("AmazonEC2ContainerServiceforEC2Role");

    static Template template;
    static String operations;

    @BeforeAll
    static void load() throws Exception {
        template = Template.load(Repo.file("template.yaml"));
        operations = Files.readString(Repo.file("docs/operations.md"));
    }

    record Statement(String where, Map<String, Object> body) {
        List<String> actions() {
            return strings(body.get("Action"));
        }
    }

    static List<String> strings(Object o) {
        List<String> out = new ArrayList<>();
        if (o instanceof List<?> l) {
            l.forEach(x -> out.add(String.valueOf(x)));
        } else if (o != null) {
            out.add(String.valueOf(o));
        }
        return out;
    }

    static List<Statement> allowStatements() {
        List<Statement> out = new ArrayList<>();
        for (String role : template.resourcesOfType("AWS::IAM::Role")) {
            Object policies = template.properties(role).get("Policies");
            for (Object p : policies instanceof List<?> l ? l : List.of()) {
                Map<String, Object> policy = Template.map(p, role);
                Map<String, Object> doc = Template.map(policy.get("PolicyDocument"), role + " document");
                for (Object s : (List<?>) doc.get("Statement")) {
                    Map<String, Object> st = Template.map(s, role);
                    if ("Allow".equals(st.get("Effect"))) {
                        out.add(new Statement(role + "/" + policy.get("PolicyName") + "/" + st.get("Sid"), st));
                    }
                }
            }
        }
        assertFalse(out.isEmpty(), "no inline policies found");
        return out;
    }

    @Test
    void noStatementGrantsEveryResourceWhereAScopedArnExists() {
        List<String> broad = new ArrayList<>();
        for (Statement s : allowStatements()) {
            if (strings(s.body().get("Resource")).contains("*")
                    && !s.actions().stream().allMatch(UNSCOPABLE::contains)) {
                broad.add(s.where() + " " + s.actions());
            }
            assertFalse(s.body().containsKey("NotResource") || s.body().containsKey("NotAction"), s.where());
        }
        assertEquals(List.of(), broad, "Resource '*' with actions that can be scoped");
    }

    @Test
    void noWildcardActions() {
        for (Statement s : allowStatements()) {
            for (String a : s.actions()) {
                assertFalse(a.equals("*") || a.endsWith(":*"), s.where() + " grants " + a);
            }
        }
    }

    @Test
    void putMetricDataIsLimitedToOurNamespace() {
        for (Statement s : allowStatements()) {
            if (s.actions().contains("cloudwatch:PutMetricData")) {
                assertTrue(String.valueOf(s.body().get("Condition")).contains("cloudwatch:namespace"), s.where());
            }
        }
    }

    @Test
    void everyExceptionInUseIsExplainedInTheRunbook() {
        Set<String> used = new TreeSet<>();
        for (Statement s : allowStatements()) {
            if (strings(s.body().get("Resource")).contains("*")) {
                used.addAll(s.actions());
            }
        }
        for (String role : template.resourcesOfType("AWS::IAM::Role")) {
            for (String arn : strings(template.properties(role).get("ManagedPolicyArns"))) {
                String name = arn.replaceAll(".*/", "").replaceAll("[}\\]]", "");
                assertTrue(MANAGED_POLICIES.contains(name), role + " uses managed policy " + arn);
                used.add(name);
            }
        }
        for (String u : used) {
            assertTrue(operations.contains(u), "docs/operations.md explains the exception " + u);
        }
    }

    @Test
    void functionRoleGrantsWhatTheSqsTriggerNeedsOnTheJobsQueueOnly() {
        // With an explicit role SAM adds nothing: without these the event source mapping cannot be created.
        Object queue = TemplateRulesTest.sqsEvent().get("Queue");
        Set<String> granted = new TreeSet<>();
        for (Statement s : allowStatements()) {
            if (s.where().startsWith("VoiceEmbeddingFunctionRole/") && queue.equals(s.body().get("Resource"))) {
                granted.addAll(s.actions());
            }
        }
        assertTrue(granted.containsAll(List.of("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes")),
                "granted on the queue: " + granted);
    }

    @Test
    void completionEventsMayBePutOnTheStacksBusOnlyByTheFunctionAndTheWorker() {
        // docs/architecture.md §13: events:PutEvents, on this stack's bus and nothing else, for the two publishers
        Map<String, Object> bus = Map.of("Fn::GetAtt", List.of("CompletionEventBus", "Arn"));
        Set<String> publishers = new TreeSet<>();
        for (Statement s : allowStatements()) {
            if (s.actions().stream().anyMatch(a -> a.startsWith("events:"))) {
                assertEquals(List.of("events:PutEvents"), s.actions(), s.where());
                assertEquals(bus, s.body().get("Resource"), s.where() + " may put events on the stack's bus only");
                publishers.add(s.where().substring(0, s.where().indexOf('/')));
            }
        }
        assertEquals(Set.of("VoiceEmbeddingFunctionRole", "WorkerTaskRole"), publishers);
    }
}
