package dev.timbre.common.secrets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The rule's cases; each service's ConfigSecretsPropertyTest holds its reader to it on random input. */
class RedactionTest {

    @Test
    void urlsKeepTheUserAndLoseThePassword() {
        assertEquals("amqp://bridge:****@rabbit:5672/%2f", Redaction.url("amqp://bridge:s3cr@t/x@rabbit:5672/%2f"));
        assertEquals("https://****@host/x", Redaction.url("https://TOKEN@host/x"));
        assertEquals("jdbc:postgresql://db/t?user=u&password=****", Redaction.url("jdbc:postgresql://db/t?user=u&password=a&b"));
    }

    @Test
    void secretVariablesAreNeverShown() {
        assertEquals("****", Redaction.value("TIMBRE_DB_PASSWORD", "plain"));
        assertEquals("arn:aws:secretsmanager:x", Redaction.value("TIMBRE_DB_SECRET_ARN", "arn:aws:secretsmanager:x"));
    }

    @Test
    void freeTextLosesEveryPieceOfTheEnvironmentsSecrets() {
        Map<String, String> env = Map.of("TIMBRE_AMQP_URL", "amqp://u:Zq9%23wLp4xY@h/", "AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMIK7");
        String shown = Redaction.text("invalid port number: Zq9#wLp4xY@h and key ...XUtnFEMI...", env);
        assertFalse(shown.contains("wLp4"), shown);
        assertFalse(shown.contains("XUtnFE"), shown);
        assertTrue(shown.startsWith("invalid port number: ****"), shown);
    }

    @Test
    void amqpUrlReasonsNeverQuoteTheUrl() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> AmqpUrl.parse("amqp://bridge:pa^ss@rabbit/%2f"));
        assertFalse(e.getMessage().contains("pa^ss"), e.getMessage());
        assertTrue(e.getMessage().contains("percent-encoded"), e.getMessage());
        assertEquals("rabbit", AmqpUrl.parse("amqps://bridge:pa%5Ess@rabbit/%2f").getHost());
    }
}
