/**
 * Test utilities every module takes in test scope, and nothing else: {@link dev.timbre.testsupport.ChildJvm}, the
 * one way tests start a child JVM (class path, main class, the engine's JVM flags, environment, output capture,
 * waiting for a line, SIGKILL on close and when the test JVM exits). Depends on the JDK only.
 */
package dev.timbre.testsupport;
