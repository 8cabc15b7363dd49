package dev.timbre.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

class CfnYamlTest {

    @Test
    void shortFormTagsBecomeTheirLongForms() {
        // given
        String yaml = """
                Version: 2012-10-17
                A: !Ref Bucket
                B: !GetAtt Queue.Arn
                C: !GetAtt [Db, Endpoint.Address]
                D: !GetAtt Db.Endpoint.Address
                E: !Sub '${AWS::StackName}-x'
                F: !Sub ['${B}/k', {B: !Ref Bucket}]
                G: !If [Cond, !Equals [a, b], !Not [!Condition Other]]
                H: !Select [0, !Split [',', !Join [',', [a, b]]]]
                I: !FindInMap [M, !Ref P, K]
                J: !Base64 {Fn::Sub: 'x'}
                K: !And [!Or [!Condition X, !Condition Y], !Condition Z]
                L: !ImportValue shared-vpc
                M: !GetAZs ''
                N: !Cidr [10.0.0.0/16, 4, 8]
                """;

        // when
        Map<String, Object> doc = CfnYaml.parse(yaml);

        // then
        assertEquals("2012-10-17", doc.get("Version"), "an unquoted date stays the string CloudFormation sees");
        assertEquals(Map.of("Ref", "Bucket"), doc.get("A"));
        assertEquals(Map.of("Fn::GetAtt", List.of("Queue", "Arn")), doc.get("B"));
        assertEquals(Map.of("Fn::GetAtt", List.of("Db", "Endpoint.Address")), doc.get("C"));
        assertEquals(doc.get("C"), doc.get("D"), "the dotted scalar form splits at the first dot only");
        assertEquals(Map.of("Fn::Sub", "${AWS::StackName}-x"), doc.get("E"));
        assertEquals(Map.of("Fn::Sub", List.of("${B}/k", Map.of("B", Map.of("Ref", "Bucket")))), doc.get("F"));
        assertEquals(Map.of("Fn::If", List.of("Cond", Map.of("Fn::Equals", List.of("a", "b")),
                Map.of("Fn::Not", List.of(Map.of("Condition", "Other"))))), doc.get("G"));
        assertEquals(Map.of("Fn::Select", List.of(0, Map.of("Fn::Split", List.of(",",
                Map.of("Fn::Join", List.of(",", List.of("a", "b"))))))), doc.get("H"));
        assertEquals(Map.of("Fn::FindInMap", List.of("M", Map.of("Ref", "P"), "K")), doc.get("I"));
        assertEquals(Map.of("Fn::Base64", Map.of("Fn::Sub", "x")), doc.get("J"));
        assertEquals(Map.of("Fn::ImportValue", "shared-vpc"), doc.get("L"));
        assertEquals(Map.of("Fn::GetAZs", ""), doc.get("M"));
        assertEquals(Map.of("Fn::Cidr", List.of("10.0.0.0/16", 4, 8)), doc.get("N"));
    }

    @Test
    void referencesAreFoundInEveryFormWithTheConditionsTheySitUnder() {
        // given
        Template t = Template.parse("""
                Conditions:
                  On: !Equals [!Ref Flag, 'true']
                Resources:
                  Q:
                    Type: AWS::SQS::Queue
                    Condition: On
                  F:
                    Type: AWS::Lambda::Function
                    DependsOn: Q
                    Properties:
                      A: !If [On, !GetAtt Q.Arn, !Ref AWS::NoValue]
                      B: !Sub '${Q.QueueName}-${AWS::Region}-${!Literal}-${Local}'
                      C: !Sub ['${Local}', {Local: !Ref Bucket}]
                """);

        // when
        String found = t.references().stream()
                .map(r -> r.kind() + ":" + r.target() + (r.attribute() == null ? "" : "." + r.attribute())
                        + r.guards())
                .collect(Collectors.joining(" "));

        // then
        assertEquals("CONDITION:On[] DEPENDS_ON:Q[] CONDITION:On[] GET_ATT:Q.Arn[On] REF:AWS::NoValue[] "
                + "GET_ATT:Q.QueueName[] SUB:AWS::Region[] SUB:Local[] REF:Bucket[] REF:Flag[]", found);
    }

    @Test
    void onlyTrueAndFalseAreBooleans() {
        Map<String, Object> doc = CfnYaml.parse("On: yes\nA: true\nB: False\nC: off\n");
        assertEquals("yes", doc.get("On"), "a logical id or value 'On'/'yes' stays a string");
        assertEquals(Boolean.TRUE, doc.get("A"));
        assertEquals(Boolean.FALSE, doc.get("B"));
        assertEquals("off", doc.get("C"));
    }

    @Test
    void duplicateKeysAreRejectedAsCloudFormationDoes() {
        assertThrows(RuntimeException.class, () -> CfnYaml.parse("A: 1\nA: 2\n"));
    }

    @Test
    void aGetAttWithoutAttributeIsAnError() {
        RuntimeException e = assertThrows(RuntimeException.class, () -> CfnYaml.parse("A: !GetAtt Queue\n"));
        Throwable root = e;
        while (root.getCause() != null) {
            root = root.getCause();
        }
        assertTrue(root.getMessage().contains("Resource.Attribute"), root.getMessage());
    }
}
