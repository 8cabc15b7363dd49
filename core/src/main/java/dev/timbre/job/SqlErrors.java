package dev.timbre.job;

import java.sql.SQLException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTimeoutException;
import java.sql.SQLTransientException;

/**
 * The one place that decides whether a database error may pass on retry (docs/architecture.md §6 "transient"), after
 * HikariCP's {@code ProxyConnection.checkException}. Codes are PostgreSQL SQLSTATEs
 * (https://www.postgresql.org/docs/current/errcodes-appendix.html). Used by every class that talks to Postgres
 * (the job store and the Postgres embedding store).
 */
public final class SqlErrors {

    private SqlErrors() {
    }

    /** True when retrying the same statement later can succeed. */
    public static boolean isTransient(SQLException e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            // Hikari's pool timeout (SQLTransientConnectionException), driver timeouts, broken connections
            if (t instanceof SQLTransientException || t instanceof SQLTimeoutException
                    || t instanceof SQLRecoverableException) {
                return true;
            }
            if (t instanceof SQLException sql && isTransientState(sql.getSQLState())) {
                return true;
            }
        }
        return false;
    }

    public static boolean isTransientState(String sqlState) {
        if (sqlState == null || sqlState.length() != 5) {
            return false;
        }
        return sqlState.startsWith("08")        // connection exception: refused, broken, failed
                || sqlState.startsWith("53")    // insufficient resources: too many connections, disk full, memory
                || sqlState.equals("57P01")     // admin_shutdown: server restarting
                || sqlState.equals("57P02")     // crash_shutdown
                || sqlState.equals("57P03")     // cannot_connect_now: starting up or in recovery
                || sqlState.equals("57014")     // query_canceled: our statement_timeout fired
                || sqlState.equals("55P03")     // lock_not_available: our lock_timeout fired
                || sqlState.equals("40001")     // serialization_failure
                || sqlState.equals("40P01");    // deadlock_detected
    }

    /**
     * A {@link TransientJobException} for a transient error, else an {@link IllegalStateException}: a
     * non-transient database error here is a bug or a broken schema, not something the job's input caused.
     */
    public static RuntimeException classify(String action, SQLException e) {
        String reason = action + " failed: " + oneLine(e);
        return isTransient(e) ? new TransientJobException("database unavailable: " + reason, e)
                : new IllegalStateException("database error: " + reason, e);
    }

    /** SQLSTATE and the first line of the message: no multi-line server detail in job errors. */
    public static String oneLine(SQLException e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        int newline = message.indexOf('\n');
        if (newline >= 0) {
            message = message.substring(0, newline);
        }
        return (e.getSQLState() == null ? "" : "[" + e.getSQLState() + "] ") + message.strip();
    }
}
