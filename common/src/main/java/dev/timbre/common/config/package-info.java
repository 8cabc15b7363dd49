/**
 * Typed reading of environment variables with one-line errors that name the variable, and the AWS region and
 * endpoint rule (docs/architecture.md §8). Each service's one configuration class reads through these.
 */
package dev.timbre.common.config;
