/**
 * The one masking rule for whatever is printed about configuration ({@link dev.timbre.common.secrets.Redaction})
 * and the AMQP URL check whose reasons never quote the URL (docs/security.md).
 */
package dev.timbre.common.secrets;
