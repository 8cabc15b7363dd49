package dev.timbre.config;

/**
 * A missing or malformed environment variable (docs/architecture.md §8). The message is one line that names the variable and
 * the rule it broke, so start-up logs say exactly what to fix; it never contains a secret's value.
 */
public class InvalidConfigException extends RuntimeException {
    public InvalidConfigException(String message) {
        super(message);
    }
}
