package dev.timbre.db;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.timbre.config.TimbreConfig;
import java.time.Duration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Creates the container's one HikariCP pool (docs/architecture.md §7). The caller owns the returned pool and closes it when
 * the container shuts down.
 */
public final class DatabasePool {

    private static final Logger log = LoggerFactory.getLogger(DatabasePool.class);

    /** A worker waits at most this long for a connection; then the job is transient, not stuck. */
    static final Duration CONNECTION_TIMEOUT = Duration.ofSeconds(5);

    /** Beyond one connection per worker thread: the ECS loop's housekeeping and a health check. */
    static final int SPARE_CONNECTIONS = 2;

    private DatabasePool() {
    }

    /** A pool sized to the worker threads plus {@link #SPARE_CONNECTIONS}. */
    public static HikariDataSource open(TimbreConfig config) {
        DatabaseTransport.plaintextWarning(config.dbUrl()).ifPresent(log::warn);
        return open(config.dbUrl(), config.dbUser(), config.dbPassword().orElse(null),
                config.workerThreads() + SPARE_CONNECTIONS);
    }

    /**
     * @param password null when the server needs none (trust auth in tests)
     * @throws com.zaxxer.hikari.pool.HikariPool.PoolInitializationException when the first connection fails
     */
    public static HikariDataSource open(String jdbcUrl, String user, String password, int maxPoolSize) {
        HikariConfig hikari = new HikariConfig();
        hikari.setPoolName("timbre-db");
        hikari.setJdbcUrl(jdbcUrl);
        hikari.setUsername(user);
        if (password != null) {
            hikari.setPassword(password);
        }
        hikari.setMaximumPoolSize(maxPoolSize);
        // Lambda containers idle between invocations: keep one warm connection, open the rest on demand
        hikari.setMinimumIdle(1);
        hikari.setConnectionTimeout(CONNECTION_TIMEOUT.toMillis());
        hikari.setValidationTimeout(Duration.ofSeconds(2).toMillis());
        // Fail at start-up, not at the first job, when the database is unreachable or the credentials are wrong
        hikari.setInitializationFailTimeout(CONNECTION_TIMEOUT.toMillis());
        // Statements are bounded by the stores (Statement.setQueryTimeout), not by startup "options": RDS Proxy
        // refuses startup options, and SET in connectionInitSql would pin every Lambda session to one backend
        hikari.addDataSourceProperty("connectTimeout", "5");
        hikari.addDataSourceProperty("socketTimeout", "60");
        hikari.addDataSourceProperty("tcpKeepAlive", "true");
        hikari.addDataSourceProperty("ApplicationName", "timbre");
        return new HikariDataSource(hikari);
    }
}
