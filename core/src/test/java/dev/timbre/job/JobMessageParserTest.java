package dev.timbre.job;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.tone.SeMode;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class JobMessageParserTest {

    private static final String JOB_ID = "3f1c2b7e-6a0d-4c8e-9b51-2d7f0a9c4e11";
    private final JobMessageParser parser = new JobMessageParser();

    private String reason(String body) {
        return assertThrows(PoisonMessageException.class, () -> parser.parse(body)).getMessage();
    }

    @Nested
    class ValidMessages {

        @Test
        void allFieldsAreRead() {
            // when
            JobMessage m = parser.parse("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"alice\",\"s3_key\":\"u/a.wav\","
                    + "\"s3_bucket\":\"timbre-uploads\",\"metadata\":{\"filename\":\"../../etc/passwd\",\"n\":3}}");
            // then
            assertEquals(UUID.fromString(JOB_ID), m.jobId());
            assertEquals("alice", m.voiceId());
            assertEquals("u/a.wav", m.s3Key());
            assertEquals(Optional.of("timbre-uploads"), m.s3Bucket());
            assertEquals(Map.of("filename", "../../etc/passwd", "n", 3), m.metadata());
        }

        @Test
        void unknownFieldsAreIgnoredAndOptionalFieldsMayBeAbsentOrNull() {
            JobMessage m = parser.parse("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"k\","
                    + "\"s3_bucket\":null,\"metadata\":null,\"priority\":9,\"extra\":{\"a\":[1]}}");
            assertEquals(Optional.empty(), m.s3Bucket());
            assertEquals(Map.of(), m.metadata());
        }

        @ParameterizedTest
        @CsvSource({"get-se, GET_SE", "extract-se, EXTRACT_SE"})
        void seModeIsReadByItsExactName(String value, SeMode expected) {
            JobMessage m = parser.parse("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"k\","
                    + "\"se_mode\":\"" + value + "\"}");
            assertEquals(Optional.of(expected), m.seMode());
            assertEquals(expected, m.modeOr(expected == SeMode.GET_SE ? SeMode.EXTRACT_SE : SeMode.GET_SE),
                    "the message's mode wins over the deployment's");
        }

        @Test
        void anAbsentOrNullSeModeLeavesTheModeToTheDeployment() {
            JobMessage absent = parser.parse("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"k\"}");
            JobMessage nul = parser.parse("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"k\","
                    + "\"se_mode\":null}");
            for (JobMessage m : new JobMessage[] {absent, nul}) {
                assertEquals(Optional.empty(), m.seMode());
                assertEquals(SeMode.EXTRACT_SE, m.modeOr(SeMode.EXTRACT_SE));
                assertEquals(SeMode.GET_SE, m.modeOr(SeMode.GET_SE));
            }
        }

        @Test
        void bytesAreDecodedAsUtf8() {
            JobMessage m = parser.parse(("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"Zoë 🎤\",\"s3_key\":\"k\"}")
                    .getBytes(StandardCharsets.UTF_8));
            assertEquals("Zoë 🎤", m.voiceId());
        }

        @Test
        void voiceIdOf128CharactersCountsCodePointsNotUtf16Units() {
            String voice = "🎤".repeat(128); // 256 UTF-16 units, 128 characters
            JobMessage m = parser.parse("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"" + voice + "\",\"s3_key\":\"k\"}");
            assertEquals(voice, m.voiceId());
        }
    }

    @Nested
    class PoisonMessages {

        @ParameterizedTest(name = "{0}")
        @CsvSource(delimiter = '|', value = {
                "not json at all                          | message body is not valid JSON",
                "[1,2]                                    | message body must be a JSON object, was an array",
                "\"a string\"                             | message body must be a JSON object, was a string",
                "{}                                       | required field job_id is missing",
                "{\"job_id\":null}                        | required field job_id is missing",
                "{\"job_id\":42}                          | job_id must be a string, was a number",
                "{\"job_id\":\"1-2-3-4-5\"}               | job_id is not a UUID: \"1-2-3-4-5\"",
        })
        void structuralProblemsAreNamed(String body, String expectedReasonStart) {
            assertTrue(reason(body).startsWith(expectedReasonStart), () -> reason(body));
        }

        @Test
        void missingVoiceIdIsNamed() {
            assertEquals("required field voice_id is missing", reason("{\"job_id\":\"" + JOB_ID + "\",\"s3_key\":\"k\"}"));
        }

        @Test
        void emptyOrOverlongFieldsAreNamedWithTheLimit() {
            assertEquals("voice_id must be 1..128 characters, was 0",
                    reason("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"\",\"s3_key\":\"k\"}"));
            assertEquals("voice_id must be 1..128 characters, was 129",
                    reason("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"" + "v".repeat(129) + "\",\"s3_key\":\"k\"}"));
            assertEquals("s3_key must be 1..1024 characters, was 1025",
                    reason("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"" + "k".repeat(1025) + "\"}"));
        }

        @Test
        void nulCharacterIsRejectedBecausePostgresTextCannotHoldIt() {
            assertEquals("voice_id must not contain a NUL character",
                    reason("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"a\\u0000b\",\"s3_key\":\"k\"}"));
        }

        @ParameterizedTest
        @CsvSource({"GET-SE", "get_se", "vad", "''", "' get-se'"})
        void anUnknownSeModeIsPoisonNamingTheFieldAndTheAcceptedValues(String value) {
            assertEquals("se_mode must be get-se or extract-se, was \"" + value + "\"",
                    reason("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"k\",\"se_mode\":\""
                            + value + "\"}"));
        }

        @Test
        void aSeModeThatIsNotAStringIsNamed() {
            assertEquals("se_mode must be a string, was a number",
                    reason("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"k\",\"se_mode\":1}"));
        }

        @Test
        void wrongTypesOfOptionalFieldsAreNamed() {
            assertEquals("metadata must be a JSON object, was an array",
                    reason("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"k\",\"metadata\":[]}"));
            assertEquals("s3_bucket must be a string, was a boolean",
                    reason("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"k\",\"s3_bucket\":true}"));
            assertEquals("s3_bucket is not a valid S3 bucket name: \"../etc\"",
                    reason("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"k\",\"s3_bucket\":\"../etc\"}"));
        }

        @Test
        void duplicateKeysAndTrailingContentAreRefused() {
            assertTrue(reason("{\"job_id\":\"" + JOB_ID + "\",\"job_id\":\"" + JOB_ID + "\"}").contains("Duplicate field"));
            assertTrue(reason("{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"k\"} {}")
                    .startsWith("message body is not valid JSON"));
        }

        @Test
        void emptyBodyIsNamed() {
            assertEquals("message body is empty", reason("  "));
        }

        @Test
        void invalidUtf8IsNamed() {
            byte[] body = {'{', '"', (byte) 0xC3, (byte) 0x28, '"', '}'};
            assertEquals("message body is not valid UTF-8",
                    assertThrows(PoisonMessageException.class, () -> parser.parse(body)).getMessage());
        }

        @Test
        void bodyOver256KibIsRefusedWithItsSize() {
            String pad = "é".repeat(JobMessageParser.MAX_BODY_BYTES / 2); // 2 bytes each: just over the limit with the rest
            String body = "{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"k\",\"metadata\":{\"p\":\"" + pad + "\"}}";
            int bytes = body.getBytes(StandardCharsets.UTF_8).length;
            assertEquals("message body is " + bytes + " bytes, over the limit of 262144", reason(body));
            assertEquals("message body is " + bytes + " bytes, over the limit of 262144",
                    assertThrows(PoisonMessageException.class,
                            () -> parser.parse(body.getBytes(StandardCharsets.UTF_8))).getMessage());
        }

        @Test
        void bodyJustUnderTheLimitIsAccepted() {
            String head = "{\"job_id\":\"" + JOB_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"k\",\"metadata\":{\"p\":\"";
            String tail = "\"}}";
            String body = head + "x".repeat(JobMessageParser.MAX_BODY_BYTES - head.length() - tail.length()) + tail;
            assertEquals(JobMessageParser.MAX_BODY_BYTES, body.getBytes(StandardCharsets.UTF_8).length);
            assertEquals("v", parser.parse(body).voiceId());
        }
    }
}
