package dev.timbre.testing;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.timbre.db.DatabasePool;
import dev.timbre.db.Migrations;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
import javax.sql.DataSource;

/**
 * A fresh, uniquely named Postgres database on the machine's server (127.0.0.1:5432, user {@code postgres},
 * trust auth), migrated to the newest schema, dropped again by {@link #close()}. Each test class (or test) gets
 * its own, so parallel builds in one work tree never see each other's rows.
 *
 * <pre>{@code
 * try (TestDatabase db = TestDatabase.create()) {
 *     JobStore jobs = new PostgresJobStore(db.dataSource());
 * }
 * }</pre>
 *
 * Server address and user can be moved with the system properties {@code timbre.test.pg.host},
 * {@code timbre.test.pg.port} and {@code timbre.test.pg.user}.
 */
public final class TestDatabase implements AutoCloseable {

    private static final String HOST = System.getProperty("timbre.test.pg.host", "127.0.0.1");
    private static final String PORT = System.getProperty("timbre.test.pg.port", "5432");
    private static final String USER = System.getProperty("timbre.test.pg.user", "postgres");

    private final String name;
    private final HikariDataSource dataSource;
    private final java.util.List<HikariDataSource> extraPools = new java.util.concurrent.CopyOnWriteArrayList<>();

    private TestDatabase(String name, HikariDataSource dataSource) {
        this.name = name;
        this.dataSource = dataSource;
    }

    /** A new database with all migrations applied. */
    public static TestDatabase create() {
        TestDatabase db = createEmpty();
        try {
            Migrations.migrate(db.dataSource);
        } catch (RuntimeException e) {
            db.close();
            throw e;
        }
        return db;
    }

    /** A new database with no schema at all (for migration tests). */
    public static TestDatabase createEmpty() {
        String name = "timbre_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16)
                .toLowerCase(Locale.ROOT);
        adminExecute("CREATE DATABASE " + name);
        try {
            return new TestDatabase(name, DatabasePool.open(urlOf(name), USER, null, 12));
        } catch (RuntimeException e) {
            adminExecute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            throw e;
        }
    }

    public String name() {
        return name;
    }

    public String jdbcUrl() {
        return urlOf(name);
    }

    public String user() {
        return USER;
    }

    /** A pooled data source (up to 12 connections), closed by {@link #close()}. */
    public DataSource dataSource() {
        return dataSource;
    }

    /**
     * The {@code TIMBRE_DB_*} variables pointing at this database, to merge into a
     * {@link dev.timbre.config.TimbreConfig#fromEnv(Map)} environment or a child process's environment.
     */
    public Map<String, String> env() {
        return Map.of("TIMBRE_DB_URL", jdbcUrl(), "TIMBRE_DB_USER", USER);
    }

    /** Runs one statement on this database, for test set-up (e.g. marking a row deleted). */
    public int execute(String sql) {
        try (Connection c = dataSource.getConnection(); Statement s = c.createStatement()) {
            return s.executeUpdate(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("test SQL failed: " + sql, e);
        }
    }

    /**
     * A database outage without stopping the shared server: {@code false} closes this database to new connections
     * and ends every open one (clients see connection failures, as when a database is down); {@code true} opens it
     * again. Either way this class's pool drops the connections it holds, as it would after failed validations.
     */
    public void acceptConnections(boolean accept) {
        adminExecute("ALTER DATABASE " + name + " ALLOW_CONNECTIONS " + accept);
        if (!accept) {
            adminExecute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '" + name + "'");
        }
        // The connections the outage ended are dead: the pools must not hand them out again afterwards
        dataSource.getHikariPoolMXBean().softEvictConnections();
        extraPools.forEach(pool -> pool.getHikariPoolMXBean().softEvictConnections());
    }

    /**
     * Another pool on this database that gives up on a connection after 250 ms (the production pool waits 5 s): an
     * outage ({@link #acceptConnections}) fails calls quickly, and as the production pool fails them (a transient
     * {@code SQLTransientConnectionException}). Closed by {@link #close()}.
     */
    public DataSource fastFailingDataSource() {
        HikariConfig config = new HikariConfig();
        config.setPoolName("test-fast-failing");
        config.setJdbcUrl(jdbcUrl());
        config.setUsername(USER);
        config.setMaximumPoolSize(6);
        config.setMinimumIdle(0);
        config.setConnectionTimeout(250);
        config.setValidationTimeout(250);
        config.setInitializationFailTimeout(-1);
        HikariDataSource pool = new HikariDataSource(config);
        extraPools.add(pool);
        return pool;
    }

    /** Closes the pool and drops the database, ending any connection still open on it. */
    @Override
    public void close() {
        extraPools.forEach(HikariDataSource::close);
        dataSource.close();
        adminExecute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }

    private static String urlOf(String database) {
        return "jdbc:postgresql://" + HOST + ":" + PORT + "/" + database;
    }

    private static void adminExecute(String sql) {
        try (Connection c = DriverManager.getConnection(urlOf("postgres"), USER, null);
             Statement s = c.createStatement()) {
            s.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot run \"" + sql + "\" on " + HOST + ":" + PORT + " as " + USER
                    + " (is the test Postgres running?): " + e.getMessage(), e);
        }
    }
}
