package dev.timbre.config;

import java.net.URI;
import java.util.Optional;

/**
 * Reads database credentials from an AWS Secrets Manager secret ({@code TIMBRE_DB_SECRET_ARN}): a JSON object
 * with {@code username} and {@code password}, the shape RDS-managed secrets have. Called once at start-up, so a
 * rotated secret reaches new containers without a redeploy and the password never sits in the environment.
 */
@FunctionalInterface
public interface DatabaseSecretReader {

    /**
     * @param secretId ARN or name of the secret
     * @param region   the region to call
     * @param endpoint an endpoint override (local runs), else the regional endpoint
     * @throws InvalidConfigException naming {@code TIMBRE_DB_SECRET_ARN} when the secret cannot be read or parsed
     */
    Credentials read(String secretId, String region, Optional<URI> endpoint);

    /** Credentials; {@code toString} never shows the password. */
    record Credentials(String username, String password) {
        @Override
        public String toString() {
            return "Credentials[username=" + username + ", password=****]";
        }
    }

    /** The real Secrets Manager. */
    DatabaseSecretReader AWS = new AwsDatabaseSecretReader();
}
