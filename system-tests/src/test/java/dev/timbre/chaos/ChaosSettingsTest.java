package dev.timbre.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** The chaos run's settings as {@code bench/chaos.sh} passes them; no service needed. */
class ChaosSettingsTest {

    @Test
    void noFlagsIsTheFullRun() {
        ChaosSettings s = ChaosSettings.fromArgs();
        assertEquals(ChaosSettings.builder().build(), s);
        assertEquals(200, s.jobs());
        assertEquals(4, s.unsendable());
        assertEquals(Duration.ofSeconds(480), s.timeout());
    }

    @Test
    void flagsSetTheirFieldAndWriteIsLeftToTheCaller() {
        ChaosSettings s = ChaosSettings.fromArgs("--jobs", "20", "--seconds", "60", "--fault-ms", "500", "--no-ecs",
                "--write", "/tmp/x.md", "--seed", "3");
        assertEquals(ChaosSettings.builder().jobs(20).timeout(Duration.ofSeconds(60))
                .faultPeriod(Duration.ofMillis(500)).ecsWorker(false).seed(3).build(), s);
    }

    @Test
    void withoutTheBridgeThereAreNoUnsendableMessages() {
        ChaosSettings s = ChaosSettings.fromArgs("--no-bridge", "--unsendable", "9");
        assertFalse(s.bridge());
        assertEquals(0, s.unsendable());
    }

    @Test
    void aBadFlagIsOneLineNamingIt() {
        assertEquals("unknown flag --job (see --help)",
                assertThrows(IllegalArgumentException.class, () -> ChaosSettings.fromArgs("--job", "3")).getMessage());
        assertEquals("--jobs wants a whole number, got \"many\"",
                assertThrows(IllegalArgumentException.class, () -> ChaosSettings.fromArgs("--jobs", "many"))
                        .getMessage());
        assertEquals("--seconds needs a value",
                assertThrows(IllegalArgumentException.class, () -> ChaosSettings.fromArgs("--seconds")).getMessage());
        assertEquals("jobs must be 0 or more, got -1",
                assertThrows(IllegalArgumentException.class, () -> ChaosSettings.fromArgs("--jobs", "-1")).getMessage());
        assertEquals("fault period must be more than 0, got PT0S",
                assertThrows(IllegalArgumentException.class, () -> ChaosSettings.fromArgs("--fault-ms", "0"))
                        .getMessage());
    }
}
