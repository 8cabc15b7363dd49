package dev.timbre.common.config;

import dev.timbre.common.secrets.Redaction;
import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Typed reading of an environment map, one rule for both services: a blank value counts as unset, values are
 * trimmed, and every failure is a {@link ConfigException} of one line that names the variable, says the rule and
 * quotes the value only as {@link Redaction#value} shows it ({@code NAME must be ..., was "value"}).
 *
 * <p>Each service's one configuration class ({@code TimbreConfig}, {@code BridgeConfig}) reads through this and
 * names every variable it reads itself; this class knows no variable names.
 */
public final class EnvReader {

    /** Parses one value; throws {@link IllegalArgumentException} whose message is the rule, never the value. */
    @FunctionalInterface
    public interface Parser<T> {
        T parse(String value);
    }

    private final Map<String, String> env;

    /** @param env read as it is, never copied: {@code System.getenv()}, or a test's map that records what is read */
    public EnvReader(Map<String, String> env) {
        this.env = Objects.requireNonNull(env, "env");
    }

    /** The trimmed value, empty when unset or blank. */
    public Optional<String> optional(String name) {
        String value = env.get(name);
        return value == null || value.isBlank() ? Optional.empty() : Optional.of(value.strip());
    }

    /** True when the variable holds a non-blank value. */
    public boolean isSet(String name) {
        return optional(name).isPresent();
    }

    /** @throws ConfigException "NAME is required but not set" */
    public String required(String name) {
        return optional(name).orElseThrow(() -> new ConfigException(name, "is required but not set"));
    }

    /** {@link #required(String)}, parsed. */
    public <T> T required(String name, Parser<T> parser) {
        return parse(name, required(name), parser);
    }

    /** The parsed value, empty when unset or blank. */
    public <T> Optional<T> optional(String name, Parser<T> parser) {
        return optional(name).map(v -> parse(name, v, parser));
    }

    /** The parsed value, {@code fallback} when unset or blank. */
    public <T> T optional(String name, Parser<T> parser, T fallback) {
        return optional(name, parser).orElse(fallback);
    }

    /** A whole number from {@code min} to {@code max}, {@code fallback} when unset. */
    public int integer(String name, int fallback, int min, int max) {
        return (int) longInteger(name, fallback, min, max);
    }

    /** A whole number from {@code min} to {@code max}, {@code fallback} when unset. */
    public long longInteger(String name, long fallback, long min, long max) {
        return optional(name, v -> wholeNumber(v, min, max), fallback);
    }

    /** A finite number above zero, {@code fallback} when unset. */
    public double positiveNumber(String name, double fallback) {
        return optional(name, EnvReader::positiveNumber, fallback);
    }

    private static <T> T parse(String name, String value, Parser<T> parser) {
        try {
            return parser.parse(value);
        } catch (ConfigException e) {
            throw e;
        } catch (IllegalArgumentException e) {
            // our own rules' words (they never quote the value); the value itself only as Redaction shows it
            throw new ConfigException(name, (e.getMessage() == null ? "is malformed" : e.getMessage())
                    + ", was \"" + Redaction.value(name, value) + "\"");
        } catch (RuntimeException e) { // a library's message may quote the value whole
            throw new ConfigException(name, "is malformed, was \"" + Redaction.value(name, value) + "\"");
        }
    }

    // ------------------------------------------------------------------------------------------ parsers

    /** {@link Parser}: a whole number from {@code min} to {@code max}. */
    public static long wholeNumber(String value, long min, long max) {
        try {
            long n = Long.parseLong(value);
            if (n >= min && n <= max) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the same words as out of range
        }
        throw new IllegalArgumentException("must be a whole number from " + min + " to "
                + (max == Long.MAX_VALUE ? "2^63-1" : String.valueOf(max)));
    }

    /** {@link Parser}: a finite number above zero. */
    public static double positiveNumber(String value) {
        try {
            double n = Double.parseDouble(value);
            if (n > 0 && !Double.isInfinite(n)) {
                return n;
            }
        } catch (NumberFormatException e) {
            // the same words as out of range
        }
        throw new IllegalArgumentException("must be a positive number");
    }

    /** {@link Parser}: an {@code http} or {@code https} URL with a host. */
    public static URI httpUrl(String value) {
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) { // getReason(), not getMessage(): the message repeats the whole input
            throw new IllegalArgumentException("is not a valid URL: " + e.getReason());
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null) {
            throw new IllegalArgumentException("must be an http(s) URL with a host");
        }
        return uri;
    }

    /** {@link Parser}: a name (queue, exchange, header, region): 1..255 characters without white space. */
    public static String name(String value) {
        if (value.length() > 255 || value.chars().anyMatch(Character::isWhitespace)) {
            throw new IllegalArgumentException("must be 1..255 characters without spaces");
        }
        return value;
    }

    /** {@link Parser} of one of {@code choices}, case-insensitive; returns the choice as written there. */
    public static Parser<String> oneOf(String... choices) {
        return value -> {
            for (String choice : choices) {
                if (choice.equalsIgnoreCase(value)) {
                    return choice;
                }
            }
            throw new IllegalArgumentException("must be " + String.join(" or ", choices));
        };
    }
}
