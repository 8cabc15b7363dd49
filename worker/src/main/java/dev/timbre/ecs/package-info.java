/**
 * The long-running ECS host (docs/architecture.md §7, §9): {@link dev.timbre.ecs.EcsWorker} long-polls the jobs
 * queue, extends visibility while a batch runs, deletes what was acknowledged, releases what was not finished, and
 * stops within a bound on SIGTERM; {@code /healthz} for the container health check. Depends on {@code config} and
 * {@code pipeline}.
 */
package dev.timbre.ecs;
