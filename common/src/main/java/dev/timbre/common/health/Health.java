package dev.timbre.common.health;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One answer of {@code /healthz}: healthy or not, and the details that say why (which dependency is down, whether
 * the service stopped itself). Rendered as one JSON object, {@code {"status":"ok"|"unhealthy", ...details}}.
 *
 * @param healthy decides the status code: 200 when true, else 503 (what ECS and load balancers act on)
 * @param details extra fields in order; values are booleans, numbers or strings
 */
public record Health(boolean healthy, Map<String, Object> details) {

    public Health {
        details = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(details));
        if (details.containsKey("status")) {
            throw new IllegalArgumentException("\"status\" is the health answer's own field");
        }
    }

    /** Healthy or not, with no details. */
    public static Health of(boolean healthy) {
        return new Health(healthy, Map.of());
    }

    /** {@code ok} or {@code unhealthy}. */
    public String status() {
        return healthy ? "ok" : "unhealthy";
    }

    /** The body: one JSON object on one line. */
    public String json() {
        StringBuilder out = new StringBuilder("{\"status\":\"").append(status()).append('"');
        details.forEach((name, value) -> {
            out.append(',');
            string(out, name);
            out.append(':');
            if (value instanceof Boolean || value instanceof Integer || value instanceof Long) {
                out.append(value);
            } else {
                string(out, String.valueOf(value));
            }
        });
        return out.append('}').toString();
    }

    private static void string(StringBuilder out, String s) {
        out.append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                out.append('\\').append(c);
            } else if (c < 0x20) {
                out.append(String.format(java.util.Locale.ROOT, "\\u%04x", (int) c));
            } else {
                out.append(c);
            }
        }
        out.append('"');
    }
}
