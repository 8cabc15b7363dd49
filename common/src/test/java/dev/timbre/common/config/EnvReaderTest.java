package dev.timbre.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class EnvReaderTest {

    private static String failure(Map<String, String> env, java.util.function.Consumer<EnvReader> read) {
        ConfigException e = assertThrows(ConfigException.class, () -> read.accept(new EnvReader(env)));
        assertFalse(e.getMessage().contains("\n"), e.getMessage());
        return e.getMessage();
    }

    @Test
    void aMissingRequiredVariableIsNamed() {
        ConfigException e = assertThrows(ConfigException.class, () -> new EnvReader(Map.of()).required("TIMBRE_X"));
        assertEquals("TIMBRE_X is required but not set", e.getMessage());
        assertEquals(Optional.of("TIMBRE_X"), e.variable());
        assertEquals("is required but not set", e.problem());
    }

    @Test
    void blankCountsAsUnsetAndValuesAreTrimmed() {
        EnvReader env = new EnvReader(Map.of("A", "  ", "B", " value "));
        assertEquals(Optional.empty(), env.optional("A"));
        assertEquals(7, env.integer("A", 7, 1, 10));
        assertEquals("value", env.required("B"));
    }

    @ParameterizedTest(name = "{0}={1}")
    @CsvSource(delimiter = '|', value = {
        "N | four           | N must be a whole number from 1 to 1024, was \"four\"",
        "N | 0              | N must be a whole number from 1 to 1024, was \"0\"",
        "N | 99999999999999999999 | N must be a whole number from 1 to 1024, was \"99999999999999999999\"",
    })
    void integersOutsideTheirRangeAreRefused(String name, String value, String message) {
        assertEquals(message, failure(Map.of(name, value), env -> env.integer(name, 1, 1, 1024)));
    }

    @Test
    void numbersAndNames() {
        assertEquals("L must be a whole number from 1 to 2^63-1, was \"50MB\"",
                failure(Map.of("L", "50MB"), env -> env.longInteger("L", 1, 1, Long.MAX_VALUE)));
        assertEquals("S must be a positive number, was \"NaN\"",
                failure(Map.of("S", "NaN"), env -> env.positiveNumber("S", 1)));
        assertEquals(2.5, new EnvReader(Map.of("S", "2.5")).positiveNumber("S", 1));
        assertEquals("Q must be 1..255 characters without spaces, was \"a b\"",
                failure(Map.of("Q", "a b"), env -> env.required("Q", EnvReader::name)));
        assertEquals("F must be json or text, was \"yaml\"",
                failure(Map.of("F", "yaml"), env -> env.required("F", EnvReader.oneOf("json", "text"))));
        assertEquals("json", new EnvReader(Map.of("F", "JSON")).required("F", EnvReader.oneOf("json", "text")));
    }

    @Test
    void httpUrlsNeedASchemeAndAHost() {
        assertEquals("U must be an http(s) URL with a host, was \"localhost:6334\"",
                failure(Map.of("U", "localhost:6334"), env -> env.required("U", EnvReader::httpUrl)));
        assertEquals("U is not a valid URL: Illegal character in authority, was \"http://bad host\"",
                failure(Map.of("U", "http://bad host"), env -> env.required("U", EnvReader::httpUrl)));
        assertEquals(URI.create("https://sqs.eu-west-1.amazonaws.com/1/jobs"), new EnvReader(
                Map.of("U", "https://sqs.eu-west-1.amazonaws.com/1/jobs")).required("U", EnvReader::httpUrl));
    }

    @Test
    void anErrorQuotesTheValueOnlyMasked() {
        // a URL with credentials: the password never appears; a secret variable: not even its shape
        String url = failure(Map.of("U", "ftp://user:hunter22@host"), env -> env.required("U", EnvReader::httpUrl));
        assertEquals("U must be an http(s) URL with a host, was \"ftp://user:****@host\"", url);
        String secret = failure(Map.of("TIMBRE_API_KEY", "notanumber-secret"),
                env -> env.integer("TIMBRE_API_KEY", 1, 1, 2));
        assertEquals("TIMBRE_API_KEY must be a whole number from 1 to 2, was \"****\"", secret);
    }

    @Test
    void aParserThatFailsOtherwiseSaysMalformedWithoutItsMessage() {
        String message = failure(Map.of("X", "password=hunter22"), env -> env.required("X", v -> {
            throw new IllegalStateException("library says: " + v);
        }));
        assertEquals("X is malformed, was \"password=****\"", message);
    }

    @Test
    void theMapIsReadNotCopied() {
        Map<String, String> env = new HashMap<>();
        EnvReader reader = new EnvReader(env);
        env.put("LATE", "1");
        assertEquals("1", reader.required("LATE"));
    }
}
