package dev.timbre.common.logging;

import dev.timbre.common.config.EnvReader;
import java.util.Locale;
import java.util.Map;

/**
 * How log lines are written, one rule for every Timbre process: {@code TIMBRE_LOG_FORMAT} ({@code json} or
 * {@code text}, any case) when set; else {@link #JSON} in the cloud, where CloudWatch Logs wants one event per
 * line: inside Lambda ({@code AWS_LAMBDA_FUNCTION_NAME}) or an ECS task ({@code ECS_CONTAINER_METADATA_URI_V4});
 * else {@link #TEXT}, readable on a terminal.
 */
public enum LogFormat {
    JSON, TEXT;

    /** Lower case, as in {@code TIMBRE_LOG_FORMAT} and the logback appender names. */
    public String value() {
        return name().toLowerCase(Locale.ROOT);
    }

    /**
     * The strict rule, for the configuration classes: an invalid {@code TIMBRE_LOG_FORMAT} stops start-up.
     *
     * @throws dev.timbre.common.config.ConfigException "TIMBRE_LOG_FORMAT must be json or text, was ..."
     */
    public static LogFormat read(EnvReader env) {
        return env.optional("TIMBRE_LOG_FORMAT", v -> valueOf(EnvReader.oneOf("json", "text").parse(v)
                        .toUpperCase(Locale.ROOT)))
                .orElse(inCloud(env) ? JSON : TEXT);
    }

    /**
     * The lenient rule, for logback, which chooses before any configuration class runs: an invalid value falls
     * back to the default, and the configuration class then stops start-up naming the variable, in that format.
     */
    public static LogFormat forLogging(Map<String, String> env) {
        EnvReader reader = new EnvReader(env);
        String explicit = reader.optional("TIMBRE_LOG_FORMAT").orElse("").toLowerCase(Locale.ROOT);
        if (explicit.equals("json") || explicit.equals("text")) {
            return valueOf(explicit.toUpperCase(Locale.ROOT));
        }
        return inCloud(reader) ? JSON : TEXT;
    }

    private static boolean inCloud(EnvReader env) {
        return env.isSet("AWS_LAMBDA_FUNCTION_NAME") || env.isSet("ECS_CONTAINER_METADATA_URI_V4");
    }
}
