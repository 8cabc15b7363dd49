package dev.timbre.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.net.URI;
import java.time.Duration;
import java.util.Optional;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClient;
import software.amazon.awssdk.services.secretsmanager.SecretsManagerClientBuilder;

/** {@link DatabaseSecretReader} on the AWS SDK: one GetSecretValue call with short timeouts, client closed after. */
final class AwsDatabaseSecretReader implements DatabaseSecretReader {

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Credentials read(String secretId, String region, Optional<URI> endpoint) {
        SecretsManagerClientBuilder builder = SecretsManagerClient.builder()
                .region(Region.of(region))
                // The JDK HTTP client: nothing to start, the cheapest choice for a one-off call at cold start
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(Duration.ofSeconds(2))
                        .socketTimeout(Duration.ofSeconds(5)))
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .apiCallTimeout(Duration.ofSeconds(15))
                        .build());
        endpoint.ifPresent(builder::endpointOverride);
        String secret;
        try (SecretsManagerClient client = builder.build()) {
            secret = client.getSecretValue(b -> b.secretId(secretId)).secretString();
        } catch (SdkException e) {
            throw new InvalidConfigException("TIMBRE_DB_SECRET_ARN: cannot read secret " + secretId + ": "
                    + firstLine(e.getMessage()));
        }
        return parse(secretId, secret);
    }

    static Credentials parse(String secretId, String secret) {
        if (secret == null) {
            throw new InvalidConfigException("TIMBRE_DB_SECRET_ARN: secret " + secretId
                    + " has no SecretString (binary secrets are not supported)");
        }
        JsonNode json;
        try {
            json = JSON.readTree(secret);
        } catch (IOException e) {
            // The message would quote the secret; say only what shape was expected.
            throw new InvalidConfigException("TIMBRE_DB_SECRET_ARN: secret " + secretId
                    + " is not a JSON object with username and password");
        }
        if (json == null || !json.isObject()) {
            throw new InvalidConfigException("TIMBRE_DB_SECRET_ARN: secret " + secretId
                    + " is not a JSON object with username and password");
        }
        return new Credentials(field(json, secretId, "username"), field(json, secretId, "password"));
    }

    private static String field(JsonNode json, String secretId, String name) {
        JsonNode v = json.get(name);
        if (v == null || !v.isTextual() || v.asText().isEmpty()) {
            throw new InvalidConfigException("TIMBRE_DB_SECRET_ARN: secret " + secretId + " has no string field "
                    + name);
        }
        return v.asText();
    }

    private static String firstLine(String s) {
        return s == null ? "" : s.lines().findFirst().orElse("");
    }
}
