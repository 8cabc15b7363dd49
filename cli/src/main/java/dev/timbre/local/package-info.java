/**
 * Every part of Timbre in one process, for {@code ./timbre demo}, tests and benchmarks (docs/architecture.md §9,
 * §12): embedded S3 (S3Proxy) and SQS (ElasticMQ) servers, a local stand-in for Lambda's SQS trigger that invokes
 * the real handler, job publishers for RabbitMQ and SQS, the bridge as a child process, and the synthetic voices
 * and report of the demo. Depends on {@code config}, {@code db}, {@code job}, {@code lambda}, {@code pipeline} and
 * {@code store}.
 */
package dev.timbre.local;
