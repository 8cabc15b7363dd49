package dev.timbre.config;

import dev.timbre.common.config.ConfigException;

/**
 * A missing or malformed environment variable of the functions module (docs/architecture.md §8): what
 * {@link TimbreConfig}, its narrow readers and the commands throw. The message is one line that names the variable
 * and the rule it broke, so start-up logs say exactly what to fix; it never contains a secret's value. A
 * {@link ConfigException}, as the bridge's configuration errors are.
 */
public class InvalidConfigException extends ConfigException {
    public InvalidConfigException(String message) {
        super(message);
    }
}
