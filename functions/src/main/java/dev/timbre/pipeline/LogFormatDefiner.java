package dev.timbre.pipeline;

import ch.qos.logback.core.PropertyDefinerBase;

import java.util.Locale;
import java.util.Map;

/**
 * Tells {@code logback.xml} which console appender to use: {@code json} (one JSON object per line, what
 * CloudWatch Logs indexes) or {@code text} (readable in a terminal). Logback decides this before any Timbre
 * class runs, so that even a configuration error at start-up is logged in the right format; hence it cannot
 * wait for {@link dev.timbre.config.TimbreConfig} and applies the same rule to the environment itself:
 * {@code TIMBRE_LOG_FORMAT} when set ({@code json}/{@code text}, anything else falls back to the default, and
 * TimbreConfig then stops start-up naming the variable), else {@code json} inside Lambda
 * ({@code AWS_LAMBDA_FUNCTION_NAME}) or ECS ({@code ECS_CONTAINER_METADATA_URI_V4}), else {@code text}.
 */
public final class LogFormatDefiner extends PropertyDefinerBase {

    @Override
    public String getPropertyValue() {
        return choose(System.getenv());
    }

    /** The rule, on a given environment. */
    public static String choose(Map<String, String> env) {
        String explicit = env.getOrDefault("TIMBRE_LOG_FORMAT", "").trim().toLowerCase(Locale.ROOT);
        if (explicit.equals("json") || explicit.equals("text")) {
            return explicit;
        }
        boolean inCloud = !env.getOrDefault("AWS_LAMBDA_FUNCTION_NAME", "").isBlank()
                || !env.getOrDefault("ECS_CONTAINER_METADATA_URI_V4", "").isBlank();
        return inCloud ? "json" : "text";
    }
}
