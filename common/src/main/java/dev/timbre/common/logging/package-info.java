/**
 * The log format rule (JSON in Lambda and ECS, text on a terminal, {@code TIMBRE_LOG_FORMAT} overrides) and the
 * logback base every service's {@code logback.xml} includes.
 */
package dev.timbre.common.logging;
