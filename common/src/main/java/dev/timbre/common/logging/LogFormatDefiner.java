package dev.timbre.common.logging;

import ch.qos.logback.core.PropertyDefinerBase;

/**
 * Tells the shared logback base ({@code dev/timbre/common/logging/logback-base.xml}) which console appender to use.
 * Logback decides this before any Timbre class runs, so that even a configuration error at start-up is logged in
 * the right format; hence it cannot wait for the service's configuration class and applies
 * {@link LogFormat#forLogging} to the process environment itself.
 */
public final class LogFormatDefiner extends PropertyDefinerBase {

    @Override
    public String getPropertyValue() {
        return LogFormat.forLogging(System.getenv()).value();
    }
}
