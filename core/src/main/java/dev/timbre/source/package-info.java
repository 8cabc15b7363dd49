/**
 * Where uploaded audio is read from: {@link dev.timbre.source.S3AudioSource} enforces the bucket allow-list before
 * any request, reads one object within the byte limit, and classifies S3 failures as permanent or transient
 * (docs/architecture.md §6). The object key is only ever sent to S3, never used as a path. Depends on
 * {@code config} and {@code job}.
 */
package dev.timbre.source;
