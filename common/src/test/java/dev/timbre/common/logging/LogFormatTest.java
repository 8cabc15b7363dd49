package dev.timbre.common.logging;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.joran.JoranConfigurator;
import dev.timbre.common.config.ConfigException;
import dev.timbre.common.config.EnvReader;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.junit.jupiter.api.Test;

class LogFormatTest {

    private static final String LAMBDA = "AWS_LAMBDA_FUNCTION_NAME";
    private static final String ECS = "ECS_CONTAINER_METADATA_URI_V4";

    @Test
    void jsonInLambdaAndEcsTextElsewhereAndTheVariableOverrides() {
        for (boolean strict : new boolean[] {true, false}) {
            java.util.function.Function<Map<String, String>, LogFormat> rule =
                    env -> strict ? LogFormat.read(new EnvReader(env)) : LogFormat.forLogging(env);
            assertEquals(LogFormat.TEXT, rule.apply(Map.of()));
            assertEquals(LogFormat.JSON, rule.apply(Map.of(LAMBDA, "timbre-worker")));
            assertEquals(LogFormat.JSON, rule.apply(Map.of(ECS, "http://169.254.170.2/v4/x")));
            assertEquals(LogFormat.TEXT, rule.apply(Map.of(ECS, " ")), "blank is unset");
            assertEquals(LogFormat.JSON, rule.apply(Map.of("TIMBRE_LOG_FORMAT", "JSON")));
            assertEquals(LogFormat.TEXT, rule.apply(Map.of("TIMBRE_LOG_FORMAT", "text", LAMBDA, "f")));
            assertEquals(LogFormat.TEXT, rule.apply(Map.of("TIMBRE_LOG_FORMAT", " text ", ECS, "u")));
        }
    }

    @Test
    void anInvalidValueStopsTheReaderButNotLogback() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> LogFormat.read(new EnvReader(Map.of("TIMBRE_LOG_FORMAT", "yaml"))));
        assertEquals("TIMBRE_LOG_FORMAT must be json or text, was \"yaml\"", e.getMessage());
        assertEquals(LogFormat.JSON, LogFormat.forLogging(Map.of("TIMBRE_LOG_FORMAT", "yaml", ECS, "u")));
    }

    @Test
    void theLogbackBaseUsesTheAppenderTheRuleChooses() throws Exception {
        LoggerContext context = new LoggerContext();
        JoranConfigurator configurator = new JoranConfigurator();
        configurator.setContext(context);
        configurator.doConfigure(new ByteArrayInputStream(("<configuration>"
                + "<include resource=\"dev/timbre/common/logging/logback-base.xml\"/></configuration>")
                .getBytes(StandardCharsets.UTF_8)));
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        String expected = LogFormat.forLogging(System.getenv()).value();
        assertEquals(expected, root.iteratorForAppenders().next().getName());
        assertEquals(ch.qos.logback.classic.Level.WARN, context.getLogger("software.amazon.awssdk").getLevel());
        context.stop();
    }
}
