package dev.timbre.config;

import dev.timbre.common.secrets.Redaction;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.postgresql.Driver;

/**
 * Checks {@code TIMBRE_DB_URL} the way pgjdbc will read it, at start-up, so a URL the driver would refuse is a
 * configuration error that quotes only {@link Redaction#url}, instead of a HikariCP "Failed to get driver instance
 * for jdbcUrl=…" with the URL in it, and a pgjdbc warning on stderr ("JDBC URL invalid port number: pw@host")
 * quoting the part of a {@code user:password@} it took for a port.
 */
final class PostgresUrl {

    static final String PREFIX = "jdbc:postgresql:";

    // pgjdbc logs through java.util.logging (to stderr by default), and its URL warnings quote the URL; the parse
    // below runs with it silenced. A strong reference: java.util.logging keeps only weak ones, losing the level.
    private static final Logger PGJDBC_LOG = Logger.getLogger("org.postgresql");

    private PostgresUrl() {
    }

    /** @throws InvalidConfigException naming {@code variable}, quoting the URL only as {@link Redaction#url} */
    static void check(String variable, String url) {
        if (!url.startsWith(PREFIX)) {
            throw invalid(variable, url, "must start with " + PREFIX);
        }
        String rest = url.substring(PREFIX.length());
        if (rest.startsWith("//")) {
            // pgjdbc has no user-info: "user:pw@host" would be read as host "user", port "pw@host"
            int end = rest.length();
            for (char c : new char[] {'/', '?', '#'}) {
                int at = rest.indexOf(c, 2);
                end = at >= 0 ? Math.min(end, at) : end;
            }
            String hosts = rest.substring(2, end);
            if (url.indexOf('@') >= 0 && (hosts.indexOf('@') >= 0 || !portsAreNumbers(hosts))) {
                throw invalid(variable, url, "must not carry a user name and password before the host (pgjdbc "
                        + "has no user-info; set TIMBRE_DB_USER and TIMBRE_DB_PASSWORD, or TIMBRE_DB_SECRET_ARN)");
            }
            if (!portsAreNumbers(hosts)) {
                throw invalid(variable, url, "has a port that is not a number from 1 to 65535");
            }
        }
        if (!driverAccepts(url)) {
            throw invalid(variable, url, "is not a URL the PostgreSQL driver accepts (check the host list and that "
                    + "% & # in parameter values are percent-encoded)");
        }
    }

    private static InvalidConfigException invalid(String variable, String url, String why) {
        return new InvalidConfigException(variable + " " + why + ", was \"" + Redaction.url(url) + "\"");
    }

    /** Each {@code host[:port]} of a comma-separated list ({@code [v6]:port} too) has no port or a valid one. */
    private static boolean portsAreNumbers(String hosts) {
        for (String host : hosts.split(",", -1)) {
            int bracket = host.lastIndexOf(']');
            int colon = host.lastIndexOf(':');
            if (colon > bracket) {
                String port = host.substring(colon + 1);
                if (!port.matches("\\d{1,5}") || Integer.parseInt(port) < 1 || Integer.parseInt(port) > 65_535) {
                    return false;
                }
            }
        }
        return true;
    }

    private static boolean driverAccepts(String url) {
        synchronized (PGJDBC_LOG) {
            Level old = PGJDBC_LOG.getLevel();
            PGJDBC_LOG.setLevel(Level.OFF);
            try {
                return Driver.parseURL(url, null) != null;
            } catch (RuntimeException e) {
                return false; // e.g. a malformed %-escape; the exception's message would quote the URL
            } finally {
                PGJDBC_LOG.setLevel(old);
            }
        }
    }
}
