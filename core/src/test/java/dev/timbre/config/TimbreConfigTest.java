package dev.timbre.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.audio.AudioLimits;
import dev.timbre.common.logging.LogFormat;
import dev.timbre.tone.SeMode;
import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class TimbreConfigTest {

    @TempDir
    Path workingDir;

    private Map<String, String> minimal() throws IOException {
        Files.createDirectories(workingDir.resolve("converter"));
        Map<String, String> env = new HashMap<>();
        env.put("TIMBRE_DB_URL", "jdbc:postgresql://db.internal:5432/timbre");
        env.put("TIMBRE_DB_USER", "timbre");
        env.put("TIMBRE_S3_BUCKET", "voice-uploads");
        env.put("TIMBRE_CONVERTER_DIR", "converter");
        env.put("AWS_REGION", "eu-central-1"); // real AWS: required (AwsEnvironment)
        return env;
    }

    private TimbreConfig read(Map<String, String> env) {
        return TimbreConfig.fromEnv(env, workingDir);
    }

    private String failure(Map<String, String> env) {
        return assertThrows(InvalidConfigException.class, () -> read(env)).getMessage();
    }

    @Nested
    class Defaults {

        @Test
        void minimalEnvironmentGetsTheDesignDefaults() throws IOException {
            TimbreConfig config = read(minimal());

            assertEquals(Runtime.getRuntime().availableProcessors(), config.workerThreads());
            assertEquals(5, config.maxReceives());
            assertEquals(new AudioLimits(50L * 1024 * 1024, 600.0), config.limits());
            assertEquals("voice_embeddings", config.qdrantCollection());
            assertEquals(Optional.empty(), config.qdrantUrl());
            assertFalse(config.usesQdrant());
            assertEquals("eu-central-1", config.awsRegion());
            assertEquals(Set.of("voice-uploads"), config.allowedBuckets());
            assertEquals(Duration.ofSeconds(5), config.deadlineMargin());
            assertEquals(LogFormat.TEXT, config.logFormat());
            assertEquals(Optional.empty(), config.dbPassword());
            assertEquals(workingDir.resolve("converter"), config.converterDir());
            assertEquals(SeMode.GET_SE, config.seMode(), "OpenVoice's usual path is the default");
        }

        @Test
        void converterDirDefaultsToTheBundledFixtureWhereItExists() throws IOException {
            Map<String, String> env = minimal();
            env.remove("TIMBRE_CONVERTER_DIR");
            Files.createDirectories(workingDir.resolve("infra/model/fixtures/converter"));

            assertEquals(workingDir.resolve("infra/model/fixtures/converter"), read(env).converterDir());
        }

        @Test
        void converterDirIsRequiredWithoutTheBundledFixture() throws IOException {
            Map<String, String> env = minimal();
            env.remove("TIMBRE_CONVERTER_DIR");

            assertEquals("TIMBRE_CONVERTER_DIR is required (no bundled fixture at infra/model/fixtures/converter)",
                    failure(env));
        }

        @Test
        void jsonLogsInsideLambdaUnlessOverridden() throws IOException {
            Map<String, String> env = minimal();
            env.put("AWS_LAMBDA_FUNCTION_NAME", "timbre-embed");
            assertEquals(LogFormat.JSON, read(env).logFormat());

            env.put("TIMBRE_LOG_FORMAT", "TEXT");
            assertEquals(LogFormat.TEXT, read(env).logFormat());
        }
    }

    @Nested
    class Parsing {

        @Test
        void everyVariableIsRead() throws IOException {
            Map<String, String> env = minimal();
            env.put("TIMBRE_DB_PASSWORD", "hunter2");
            env.put("TIMBRE_ALLOWED_BUCKETS", "partner-a, partner-b ,");
            env.put("AWS_REGION", "eu-west-1");
            env.put("AWS_ENDPOINT_URL", "http://127.0.0.1:4566");
            env.put("AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000");
            env.put("TIMBRE_QUEUE_URL", "http://127.0.0.1:9324/000000000000/jobs");
            env.put("TIMBRE_DLQ_URL", "http://127.0.0.1:9324/000000000000/jobs-dlq");
            env.put("TIMBRE_QDRANT_URL", "https://qdrant.example.com:6334");
            env.put("TIMBRE_QDRANT_API_KEY", "qdrant-secret");
            env.put("TIMBRE_QDRANT_COLLECTION", "voices_v2");
            env.put("TIMBRE_WORKER_THREADS", "8");
            env.put("TIMBRE_MAX_AUDIO_BYTES", "1048576");
            env.put("TIMBRE_MAX_AUDIO_SECONDS", "30.5");
            env.put("TIMBRE_MAX_RECEIVES", "7");
            env.put("TIMBRE_DEADLINE_MARGIN_MS", "2500");
            env.put("TIMBRE_LOG_FORMAT", "json");
            env.put("TIMBRE_SE_MODE", "extract-se");

            TimbreConfig config = read(env);

            assertEquals(Optional.of("hunter2"), config.dbPassword());
            assertEquals(Set.of("voice-uploads", "partner-a", "partner-b"), config.allowedBuckets());
            assertEquals("eu-west-1", config.awsRegion());
            assertEquals(Optional.of(URI.create("http://127.0.0.1:9000")), config.s3Endpoint(),
                    "the service-specific endpoint wins");
            assertEquals(Optional.of(URI.create("http://127.0.0.1:4566")), config.sqsEndpoint(),
                    "the shared endpoint is the fallback");
            assertEquals("http://127.0.0.1:9324/000000000000/jobs", config.queueUrl().orElseThrow().toString());
            assertEquals("http://127.0.0.1:9324/000000000000/jobs-dlq", config.dlqUrl().orElseThrow().toString());
            assertTrue(config.usesQdrant());
            assertEquals(Optional.of("qdrant-secret"), config.qdrantApiKey());
            assertEquals("voices_v2", config.qdrantCollection());
            assertEquals(8, config.workerThreads());
            assertEquals(new AudioLimits(1_048_576, 30.5), config.limits());
            assertEquals(7, config.maxReceives());
            assertEquals(Duration.ofMillis(2500), config.deadlineMargin());
            assertEquals(LogFormat.JSON, config.logFormat());
            assertEquals(SeMode.EXTRACT_SE, config.seMode());
        }

        @ParameterizedTest
        @CsvSource({"get-se, GET_SE", "extract-se, EXTRACT_SE", "' get-se ', GET_SE", "'', GET_SE"})
        void theEmbeddingModeIsReadByItsExactName(String value, SeMode expected) throws IOException {
            Map<String, String> env = minimal();
            env.put("TIMBRE_SE_MODE", value);

            assertEquals(expected, read(env).seMode());
        }

        @ParameterizedTest
        @CsvSource({"GET_SE", "get_se", "extract", "vad", "Get-Se"})
        void anUnknownEmbeddingModeStopsStartUpNamingTheVariableAndTheAcceptedValues(String value)
                throws IOException {
            Map<String, String> env = minimal();
            env.put("TIMBRE_SE_MODE", value);

            assertEquals("TIMBRE_SE_MODE must be get-se or extract-se, was '" + value + "'", failure(env));
        }

        @Test
        void blankValuesCountAsUnset() throws IOException {
            Map<String, String> env = minimal();
            env.put("TIMBRE_QDRANT_URL", "  ");
            env.put("TIMBRE_WORKER_THREADS", "");

            TimbreConfig config = read(env);
            assertFalse(config.usesQdrant());
            assertEquals(Runtime.getRuntime().availableProcessors(), config.workerThreads());
        }

        @Test
        void fromEnvReadsOnlyTheGivenMap() {
            InvalidConfigException e = assertThrows(InvalidConfigException.class,
                    () -> TimbreConfig.fromEnv(Map.of()));
            assertEquals("TIMBRE_DB_URL is required but not set", e.getMessage());
        }
    }

    @Nested
    class Validation {

        @ParameterizedTest(name = "{0}")
        @CsvSource(delimiter = '|', value = {
            "TIMBRE_DB_URL        | mysql://x                  | TIMBRE_DB_URL must start with jdbc:postgresql:, was \"mysql://x\"",
            "TIMBRE_WORKER_THREADS| four                       | TIMBRE_WORKER_THREADS must be a whole number from 1 to 1024, was \"four\"",
            "TIMBRE_WORKER_THREADS| 0                          | TIMBRE_WORKER_THREADS must be a whole number from 1 to 1024, was \"0\"",
            "TIMBRE_MAX_RECEIVES  | -1                         | TIMBRE_MAX_RECEIVES must be a whole number from 1 to 1000, was \"-1\"",
            "TIMBRE_MAX_AUDIO_BYTES| 50MB                      | TIMBRE_MAX_AUDIO_BYTES must be a whole number from 1 to 2^63-1, was \"50MB\"",
            "TIMBRE_MAX_AUDIO_SECONDS| NaN                     | TIMBRE_MAX_AUDIO_SECONDS must be a positive number, was \"NaN\"",
            "TIMBRE_MAX_AUDIO_SECONDS| -3                      | TIMBRE_MAX_AUDIO_SECONDS must be a positive number, was \"-3\"",
            "TIMBRE_DEADLINE_MARGIN_MS| 1e3                    | TIMBRE_DEADLINE_MARGIN_MS must be a whole number from 0 to 900000, was \"1e3\"",
            "TIMBRE_QDRANT_URL    | localhost:6334             | TIMBRE_QDRANT_URL must be an http(s) URL with a host, was \"localhost:6334\"",
            "TIMBRE_QDRANT_URL    | 127.0.0.1:6334             | TIMBRE_QDRANT_URL is not a valid URL: Illegal character in scheme name, was \"127.0.0.1:6334\"",
            "AWS_ENDPOINT_URL_S3  | http://bad host            | AWS_ENDPOINT_URL_S3 is not a valid URL: Illegal character in authority, was \"http://bad host\"",
            "TIMBRE_S3_BUCKET     | ../etc                     | TIMBRE_S3_BUCKET must hold valid S3 bucket names (3..63 of a-z 0-9 . -), was \"../etc\"",
            "TIMBRE_ALLOWED_BUCKETS| ok-bucket,Bad_Bucket      | TIMBRE_ALLOWED_BUCKETS must hold valid S3 bucket names (3..63 of a-z 0-9 . -), was \"Bad_Bucket\"",
            "TIMBRE_QDRANT_COLLECTION| a/b                     | TIMBRE_QDRANT_COLLECTION must be 1..255 letters, digits, _ or -, was \"a/b\"",
            "TIMBRE_LOG_FORMAT    | yaml                       | TIMBRE_LOG_FORMAT must be json or text, was \"yaml\"",
            "TIMBRE_CONVERTER_DIR | no/such/dir                | TIMBRE_CONVERTER_DIR must be an existing directory, was \"no/such/dir\"",
        })
        void malformedVariableStopsStartUpWithOneLineNamingIt(String variable, String value, String message)
                throws IOException {
            Map<String, String> env = minimal();
            env.put(variable, value);

            String failure = failure(env);

            assertEquals(message, failure);
            assertFalse(failure.contains("\n"));
        }

        @ParameterizedTest
        @CsvSource({"TIMBRE_DB_URL", "TIMBRE_DB_USER", "TIMBRE_S3_BUCKET"})
        void missingRequiredVariableIsNamed(String variable) throws IOException {
            Map<String, String> env = minimal();
            env.remove(variable);

            assertEquals(variable + " is required but not set", failure(env));
        }

        /** One rule with the bridge: a region of its own only against local servers (it was us-east-1 always). */
        @Test
        void theRegionIsRequiredAgainstRealAwsAndDefaultsOnlyForALocalEndpoint() throws IOException {
            Map<String, String> env = minimal();
            env.remove("AWS_REGION");
            TimbreConfig withoutRegion = read(env); // the database-only commands run without it
            InvalidConfigException e = assertThrows(InvalidConfigException.class, withoutRegion::awsRegion);
            assertTrue(e.getMessage().startsWith("AWS_REGION is required but not set"), e.getMessage());

            env.put("AWS_ENDPOINT_URL", "http://127.0.0.1:4566");
            assertEquals("us-east-1", read(env).awsRegion());
        }

        @Test
        void secretArnTogetherWithUserAndPasswordIsRefused() throws IOException {
            Map<String, String> env = minimal();
            env.put("TIMBRE_DB_SECRET_ARN", "arn:aws:secretsmanager:eu-west-1:1:secret:db");

            assertTrue(failure(env).startsWith("TIMBRE_DB_SECRET_ARN is set together with TIMBRE_DB_USER"),
                    failure(env));
        }
    }

    @Nested
    class Secrets {

        @Test
        void toStringMasksPasswordsAndKeys() throws IOException {
            Map<String, String> env = minimal();
            env.put("TIMBRE_DB_URL", "jdbc:postgresql://db/timbre?user=timbre&password=url-secret&ssl=true");
            env.put("TIMBRE_DB_PASSWORD", "db-secret");
            env.put("TIMBRE_QDRANT_URL", "https://qdrant.example.com");
            env.put("TIMBRE_QDRANT_API_KEY", "qdrant-secret");

            String printed = read(env).toString();

            assertFalse(printed.contains("url-secret"), printed);
            assertFalse(printed.contains("db-secret"), printed);
            assertFalse(printed.contains("qdrant-secret"), printed);
            // masked to the end: an unencoded & in a password must not expose the rest of it
            assertTrue(printed.contains("?user=timbre&password=****,"), printed);
            assertTrue(printed.contains("qdrantApiKey=****"), printed);
        }

        @Test
        void malformedDbUrlMessageMasksItsPassword() throws IOException {
            Map<String, String> env = minimal();
            env.put("TIMBRE_DB_URL", "postgres://db/timbre?password=url-secret");

            assertFalse(failure(env).contains("url-secret"));
        }
    }
}
