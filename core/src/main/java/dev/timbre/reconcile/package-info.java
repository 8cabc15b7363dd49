/**
 * The operator's way to finish jobs whose message reached the DLQ while the row stayed open ({@code ./timbre
 * reconcile}, docs/operations.md §5, docs/reliability.md §6): each DLQ message's job row is marked FAILED (its
 * point removed) or the message is sent back to the jobs queue; the row is written before the message is deleted,
 * so an interrupted run loses nothing. Depends on {@code job} and {@code store}.
 */
package dev.timbre.reconcile;
