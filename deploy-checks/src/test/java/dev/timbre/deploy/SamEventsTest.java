package dev.timbre.deploy;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.job.JobMessageParser;
import dev.timbre.job.PoisonMessageException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The events for `sam local invoke` are well-formed SQS events and contain what their names promise. */
class SamEventsTest {

    private final ObjectMapper json = new ObjectMapper();
    private final JobMessageParser parser = new JobMessageParser();

    private JsonNode records(String file) throws Exception {
        JsonNode records = json.readTree(Repo.file("infra/events/" + file).toFile()).get("Records");
        assertTrue(records != null && records.isArray() && records.size() > 0, file + " has Records");
        Set<String> ids = new HashSet<>();
        for (JsonNode r : records) {
            assertEquals("aws:sqs", r.get("eventSource").asText(), file);
            assertTrue(ids.add(r.get("messageId").asText()), file + ": message ids are unique");
            String body = r.get("body").asText();
            String md5 = HexFormat.of().formatHex(MessageDigest.getInstance("MD5")
                    .digest(body.getBytes(StandardCharsets.UTF_8)));
            assertEquals(md5, r.get("md5OfBody").asText(), file + ": md5OfBody of " + r.get("messageId"));
            assertTrue(r.get("attributes").has("ApproximateReceiveCount"), file + ": receive count present");
        }
        return records;
    }

    @Test
    void goodBatchHoldsOnlyValidJobMessages() throws Exception {
        for (JsonNode r : records("sam-good-batch.json")) {
            parser.parse(r.get("body").asText());
        }
    }

    @Test
    void poisonBatchMixesAValidJobWithPoisonMessages() throws Exception {
        int poison = 0;
        int valid = 0;
        for (JsonNode r : records("sam-poison-batch.json")) {
            try {
                parser.parse(r.get("body").asText());
                valid++;
            } catch (PoisonMessageException e) {
                poison++;
                assertFalse(e.getMessage().isBlank(), "a poison reason for " + r.get("messageId"));
            }
        }
        assertTrue(valid >= 1 && poison >= 2, "valid " + valid + ", poison " + poison);
        assertThrows(PoisonMessageException.class, () -> parser.parse("this is not json"));
    }

    @Test
    void localEnvironmentOverridesOnlyVariablesTheTemplateDeclares() throws Exception {
        // sam local invoke ignores overrides for variables the template does not declare: a typo would be silent.
        Template template = Template.load(Repo.file("template.yaml"));
        Map<String, Object> declared = EnvironmentContractTest.functionEnvironment(template);
        JsonNode env = json.readTree(Repo.file("infra/events/sam-local-env.json").toFile()).get(TemplateRulesTest.FUNCTION);
        env.fieldNames().forEachRemaining(name -> assertTrue(declared.containsKey(name), name + " is declared"));
    }
}
