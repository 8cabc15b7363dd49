package dev.timbre.db;

import java.util.Locale;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import org.postgresql.Driver;

/**
 * Whether a JDBC URL makes pgjdbc encrypt the connection. pgjdbc's default, {@code sslmode=prefer}, falls back to
 * plaintext when the server does not offer TLS and never verifies the server, so a URL without
 * {@code sslmode=require}/{@code verify-ca}/{@code verify-full} (or {@code ssl=true}, pgjdbc's verify-full) can
 * carry the password and the job rows in clear. Loopback hosts are exempt: nothing leaves the machine.
 */
public final class DatabaseTransport {

    private static final Set<String> ENCRYPTING_MODES = Set.of("require", "verify-ca", "verify-full");
    private static final Set<String> LOOPBACK_HOSTS = Set.of("localhost", "127.0.0.1", "::1", "[::1]");

    private DatabaseTransport() {
    }

    /** A one-line warning when {@code jdbcUrl} may connect to a remote server without TLS, else empty. */
    public static Optional<String> plaintextWarning(String jdbcUrl) {
        Properties parsed = Driver.parseURL(jdbcUrl, null); // pgjdbc's own parser: the URL as the driver reads it
        if (parsed == null) {
            return Optional.empty(); // not a pgjdbc URL; TimbreConfig has already refused it
        }
        String sslmode = parsed.getProperty("sslmode");
        if (sslmode != null && ENCRYPTING_MODES.contains(sslmode.toLowerCase(Locale.ROOT))) {
            return Optional.empty();
        }
        if (sslmode == null && "true".equalsIgnoreCase(parsed.getProperty("ssl"))) {
            return Optional.empty();
        }
        String hosts = parsed.getProperty("PGHOST", "localhost");
        boolean allLoopback = true;
        for (String host : hosts.split(",")) {
            allLoopback &= LOOPBACK_HOSTS.contains(host.strip().toLowerCase(Locale.ROOT))
                    || host.strip().startsWith("127.");
        }
        if (allLoopback) {
            return Optional.empty();
        }
        return Optional.of("TIMBRE_DB_URL does not require TLS (sslmode=" + (sslmode == null ? "prefer, the default"
                : sslmode) + " may send the password and job rows in clear and does not verify the server):"
                + " add sslmode=verify-full, or sslmode=require");
    }
}
