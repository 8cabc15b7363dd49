/**
 * The {@code ./timbre} command line: one class per subcommand ({@code demo}, {@code extract}, {@code worker},
 * {@code submit}, {@code status}, {@code similar}, {@code reconcile}, {@code migrate}), dispatched by
 * {@link dev.timbre.cli.TimbreCli}, with errors as one line on stderr and exit codes scripts can rely on
 * ({@link dev.timbre.cli.ExitCodes}). The top of the package graph (docs/architecture.md §11); nothing imports it.
 */
package dev.timbre.cli;
