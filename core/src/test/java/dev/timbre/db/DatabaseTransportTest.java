package dev.timbre.db;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.junit.jupiter.api.Test;

class DatabaseTransportTest {

    @Test
    void aRemoteHostWithoutAnEncryptingSslmodeIsWarnedAbout() {
        for (String url : new String[] {"jdbc:postgresql://db.internal:5432/timbre",
                "jdbc:postgresql://db.internal/timbre?sslmode=prefer",
                "jdbc:postgresql://db.internal/timbre?sslmode=disable",
                "jdbc:postgresql://db.internal/timbre?sslmode=allow",
                "jdbc:postgresql://127.0.0.1,db.internal/timbre"}) {
            Optional<String> warning = DatabaseTransport.plaintextWarning(url);
            assertTrue(warning.isPresent(), url);
            assertTrue(warning.get().startsWith("TIMBRE_DB_URL does not require TLS (sslmode="), warning.get());
            assertTrue(warning.get().endsWith("add sslmode=verify-full, or sslmode=require"), warning.get());
        }
        assertEquals("TIMBRE_DB_URL does not require TLS (sslmode=prefer, the default may send the password and job"
                        + " rows in clear and does not verify the server): add sslmode=verify-full, or sslmode=require",
                DatabaseTransport.plaintextWarning("jdbc:postgresql://db.internal/timbre").orElseThrow());
    }

    @Test
    void encryptingModesAndLoopbackHostsAreNot() {
        for (String url : new String[] {"jdbc:postgresql://db.internal/timbre?sslmode=require",
                "jdbc:postgresql://db.internal/timbre?sslmode=verify-ca",
                "jdbc:postgresql://db.internal/timbre?sslmode=VERIFY-FULL&ApplicationName=x",
                "jdbc:postgresql://db.internal/timbre?ssl=true",
                "jdbc:postgresql://127.0.0.1:5432/timbre",
                "jdbc:postgresql://localhost/timbre?sslmode=disable",
                "jdbc:postgresql://[::1]:5432/timbre",
                "jdbc:postgresql:timbre"}) {
            assertEquals(Optional.empty(), DatabaseTransport.plaintextWarning(url), url);
        }
    }
}
