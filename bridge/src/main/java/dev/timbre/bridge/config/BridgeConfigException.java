package dev.timbre.bridge.config;

/** A missing or malformed configuration variable; the message is one line that names it. */
public final class BridgeConfigException extends RuntimeException {
    private final String variable;

    public BridgeConfigException(String variable, String problem) {
        super(variable + " " + problem);
        this.variable = variable;
    }

    /** The environment variable at fault. */
    public String variable() {
        return variable;
    }
}
