/**
 * The Postgres plumbing shared by the job table and the Postgres embedding store: the one HikariCP pool per process,
 * sized to the worker threads (docs/architecture.md §7), the Flyway migrations from {@code infra/db/} (§4), and the
 * start-up warning for a connection that would leave the machine without TLS. Depends on {@code config}.
 */
package dev.timbre.db;
