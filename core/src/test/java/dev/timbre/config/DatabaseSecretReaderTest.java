package dev.timbre.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * TIMBRE_DB_SECRET_ARN through the real AWS SDK against a local HTTP server speaking Secrets Manager's
 * GetSecretValue (AWS JSON 1.1): the credentials come from the secret, errors name the variable and never the
 * secret's value.
 */
class DatabaseSecretReaderTest {

    private static HttpServer server;
    private static final Map<String, String> SECRETS = new HashMap<>();
    private static final List<String> TARGETS = new CopyOnWriteArrayList<>();

    @BeforeAll
    static void startFakeSecretsManager() throws IOException {
        SECRETS.put("db", "{\"username\":\"timbre_app\",\"password\":\"s3cr3t-from-sm\",\"engine\":\"postgres\"}");
        SECRETS.put("not-json", "hunter2-plain");
        SECRETS.put("no-password", "{\"username\":\"u\"}");
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            TARGETS.add(exchange.getRequestHeaders().getFirst("X-Amz-Target"));
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            String id = body.replaceAll(".*\"SecretId\"\\s*:\\s*\"([^\"]*)\".*", "$1");
            String secret = SECRETS.get(id);
            byte[] out;
            int status;
            if (secret == null) {
                status = 400;
                exchange.getResponseHeaders().add("x-amzn-ErrorType", "ResourceNotFoundException");
                out = "{\"__type\":\"ResourceNotFoundException\",\"message\":\"Secrets Manager can't find the specified secret.\"}"
                        .getBytes(StandardCharsets.UTF_8);
            } else {
                status = 200;
                String escaped = secret.replace("\\", "\\\\").replace("\"", "\\\"");
                out = ("{\"ARN\":\"arn:aws:secretsmanager:us-east-1:1:secret:" + id + "\",\"Name\":\"" + id
                        + "\",\"SecretString\":\"" + escaped + "\",\"VersionId\":\"v1\"}").getBytes(StandardCharsets.UTF_8);
            }
            exchange.getResponseHeaders().add("Content-Type", "application/x-amz-json-1.1");
            exchange.sendResponseHeaders(status, out.length);
            exchange.getResponseBody().write(out);
            exchange.close();
        });
        server.start();
        // The SDK signs every request; the default chain reads these first.
        System.setProperty("aws.accessKeyId", "test-key");
        System.setProperty("aws.secretAccessKey", "test-secret");
    }

    @AfterAll
    static void stop() {
        server.stop(0);
        System.clearProperty("aws.accessKeyId");
        System.clearProperty("aws.secretAccessKey");
    }

    private static Map<String, String> env(String secretId) {
        Map<String, String> env = new HashMap<>();
        env.put("TIMBRE_DB_URL", "jdbc:postgresql://127.0.0.1:5432/timbre");
        env.put("TIMBRE_DB_SECRET_ARN", secretId);
        env.put("TIMBRE_S3_BUCKET", "uploads");
        env.put("TIMBRE_CONVERTER_DIR", System.getProperty("java.io.tmpdir"));
        env.put("AWS_REGION", "us-east-1");
        env.put("AWS_ENDPOINT_URL_SECRETS_MANAGER", "http://127.0.0.1:" + server.getAddress().getPort());
        return env;
    }

    @Test
    void credentialsComeFromTheSecret() {
        TimbreConfig config = TimbreConfig.fromEnv(env("db"));

        assertEquals("timbre_app", config.dbUser());
        assertEquals("s3cr3t-from-sm", config.dbPassword().orElseThrow());
        assertTrue(TARGETS.contains("secretsmanager.GetSecretValue"), "called GetSecretValue: " + TARGETS);
        assertFalse(config.toString().contains("s3cr3t-from-sm"), "the password is masked in toString");
    }

    @Test
    void migrateAndStatusReadTheSameSecret() {
        TimbreConfig.DatabaseSettings db = TimbreConfig.databaseFromEnv(env("db"));
        assertEquals("timbre_app", db.user());
        assertFalse(db.toString().contains("s3cr3t-from-sm"));
    }

    @Test
    void missingSecretNamesTheVariableAndTheSecret() {
        InvalidConfigException e = assertThrows(InvalidConfigException.class, () -> TimbreConfig.fromEnv(env("nope")));
        assertTrue(e.getMessage().startsWith("TIMBRE_DB_SECRET_ARN: cannot read secret nope:"), e.getMessage());
        assertEquals(1, e.getMessage().lines().count());
    }

    @Test
    void malformedSecretsAreRejectedWithoutQuotingThem() {
        InvalidConfigException notJson = assertThrows(InvalidConfigException.class,
                () -> TimbreConfig.fromEnv(env("not-json")));
        assertEquals("TIMBRE_DB_SECRET_ARN: secret not-json is not a JSON object with username and password",
                notJson.getMessage());
        assertFalse(notJson.getMessage().contains("hunter2"));

        InvalidConfigException noPassword = assertThrows(InvalidConfigException.class,
                () -> TimbreConfig.fromEnv(env("no-password")));
        assertEquals("TIMBRE_DB_SECRET_ARN: secret no-password has no string field password", noPassword.getMessage());
    }
}
