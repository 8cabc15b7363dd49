package dev.timbre.bridge.config;

/** A missing or malformed configuration variable; the message is one line that names it. */
public final class BridgeConfigException extends RuntimeException {
    private final String variable;
    private final String problem;

    public BridgeConfigException(String variable, String problem) {
        super(variable + " " + problem);
        this.variable = variable;
        this.problem = problem;
    }

    /** What is wrong with it, without the variable's name. */
    public String problem() {
        return problem;
    }

    /** The environment variable at fault. */
    public String variable() {
        return variable;
    }
}
