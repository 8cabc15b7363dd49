package dev.timbre.common.config;

import java.util.Optional;

/**
 * A missing or malformed configuration variable (docs/architecture.md §8). The message is one line that starts with
 * the variable's name and says the rule it broke, so a start-up log says exactly what to fix; it never holds a
 * secret's value ({@link EnvReader} quotes values only through {@code Redaction}).
 */
public class ConfigException extends RuntimeException {
    private final String variable;
    private final String problem;

    /** {@code variable} broke a rule; {@code problem} says which, without the name (e.g. "is required but not set"). */
    public ConfigException(String variable, String problem) {
        super(variable + " " + problem);
        this.variable = variable;
        this.problem = problem;
    }

    /** A rule about several variables together (e.g. two that exclude each other): the message names them. */
    public ConfigException(String message) {
        super(message);
        this.variable = null;
        this.problem = message;
    }

    /** The variable at fault, when the rule is about one. */
    public Optional<String> variable() {
        return Optional.ofNullable(variable);
    }

    /** What is wrong, without the variable's name in front (the whole message for a rule about several). */
    public String problem() {
        return problem;
    }
}
