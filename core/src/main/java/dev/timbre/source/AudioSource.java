package dev.timbre.source;

/**
 * Where uploaded audio is read from. Implementations bound the read by the byte limit before reading the body
 * (Content-Length) and enforce the bucket allow-list. A missing object or an object over the limit is a
 * {@link dev.timbre.job.PermanentJobException}; timeouts, 5xx and throttling are
 * {@link dev.timbre.job.TransientJobException}.
 */
public interface AudioSource {

    /**
     * @param bucket the bucket to read from, or null for the configured default
     * @param key    the object key, never used as a file path
     */
    byte[] fetch(String bucket, String key);
}
