package dev.timbre.source;

import dev.timbre.config.TimbreConfig;
import dev.timbre.job.PermanentJobException;
import dev.timbre.job.TransientJobException;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.exception.AbortedException;
import software.amazon.awssdk.core.exception.ApiCallAttemptTimeoutException;
import software.amazon.awssdk.core.exception.ApiCallTimeoutException;
import software.amazon.awssdk.core.exception.SdkClientException;
import software.amazon.awssdk.core.exception.SdkException;
import software.amazon.awssdk.core.exception.SdkServiceException;
import software.amazon.awssdk.core.retry.RetryMode;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3ClientBuilder;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.NoSuchBucketException;
import software.amazon.awssdk.services.s3.model.NoSuchKeyException;

/**
 * Reads uploaded audio from S3 (or an S3-compatible endpoint) into memory, bounded by the byte limit.
 *
 * <p>Order of checks: the bucket allow-list (no request is made for another bucket), then one GET whose
 * Content-Length must be within the limit (the transfer is aborted before the body is read otherwise), read so
 * that it is aborted as soon as it passes the limit (should the length be missing or wrong). One request per job,
 * not a HEAD and a GET: a round trip less on every job, which is most of a job's wait when S3 is slow. The key is
 * only ever sent to S3, never used as a file path.
 *
 * <p>Failure classes (docs/architecture.md §6): a missing object, a forbidden one, a bucket outside the list and an object
 * over the limit are {@link PermanentJobException}; timeouts, connection failures, 5xx and throttling, after
 * the SDK's own retries, are {@link TransientJobException}.
 *
 * <p>Thread-safe: the S3 client is shared by all worker threads. Closing this source closes the client when it
 * was built by {@link #fromConfig}.
 */
public final class S3AudioSource implements AudioSource, AutoCloseable {

    /** Connecting to S3 takes milliseconds; anything slower is a network problem worth a retry. */
    static final Duration CONNECT_TIMEOUT = Duration.ofSeconds(2);
    /** One GET attempt, including reading 50 MiB at a modest 10 MB/s. */
    static final Duration ATTEMPT_TIMEOUT = Duration.ofSeconds(20);
    /** All attempts of one call together; keeps a job well inside a Lambda deadline. */
    static final Duration CALL_TIMEOUT = Duration.ofSeconds(45);

    // A Java array cannot hold more; limits above this are capped here
    private static final long MAX_ARRAY_BYTES = Integer.MAX_VALUE - 8;

    private static final Logger log = LoggerFactory.getLogger(S3AudioSource.class);

    private final S3Client s3;
    private final boolean ownsClient;
    private final String defaultBucket;
    private final Set<String> allowedBuckets;
    private final long maxBytes;

    /**
     * @param s3             shared client; not closed by {@link #close()}
     * @param defaultBucket  used when a message names no bucket; must be in {@code allowedBuckets}
     * @param allowedBuckets the only buckets read from
     * @param maxBytes       largest object accepted
     */
    public S3AudioSource(S3Client s3, String defaultBucket, Set<String> allowedBuckets, long maxBytes) {
        this(s3, false, defaultBucket, allowedBuckets, maxBytes);
    }

    private S3AudioSource(S3Client s3, boolean ownsClient, String defaultBucket, Set<String> allowedBuckets,
                          long maxBytes) {
        this.s3 = Objects.requireNonNull(s3, "s3");
        this.ownsClient = ownsClient;
        this.defaultBucket = Objects.requireNonNull(defaultBucket, "defaultBucket");
        this.allowedBuckets = Set.copyOf(allowedBuckets);
        if (!this.allowedBuckets.contains(defaultBucket)) {
            throw new IllegalArgumentException("the default bucket " + defaultBucket + " must be allowed");
        }
        if (maxBytes < 1) {
            throw new IllegalArgumentException("maxBytes must be at least 1, was " + maxBytes);
        }
        this.maxBytes = Math.min(maxBytes, MAX_ARRAY_BYTES);
    }

    /** A source with its own S3 client, built once per container from the configuration. */
    public static S3AudioSource fromConfig(TimbreConfig config) {
        return new S3AudioSource(newClient(config), true, config.s3Bucket(), config.allowedBuckets(),
                config.maxAudioBytes());
    }

    /**
     * The S3 client for this configuration: the JDK HTTP client (cheapest at cold start), the configured region,
     * path-style addressing when an endpoint override points at a local S3, bounded timeouts and the SDK's
     * standard retries (3 attempts with backoff; throttling and 5xx included). Credentials come from the SDK's
     * default chain (Lambda/ECS role, or the environment).
     */
    public static S3Client newClient(TimbreConfig config) {
        S3ClientBuilder builder = S3Client.builder()
                .region(Region.of(config.awsRegion()))
                .credentialsProvider(DefaultCredentialsProvider.builder().build())
                .httpClientBuilder(UrlConnectionHttpClient.builder()
                        .connectionTimeout(CONNECT_TIMEOUT)
                        .socketTimeout(ATTEMPT_TIMEOUT))
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .apiCallAttemptTimeout(ATTEMPT_TIMEOUT)
                        .apiCallTimeout(CALL_TIMEOUT)
                        .retryStrategy(RetryMode.STANDARD)
                        .build());
        config.s3Endpoint().ifPresent(endpoint -> builder.endpointOverride(endpoint)
                // Local S3 servers (S3Proxy, MinIO) answer on one host name: no bucket sub-domains
                .forcePathStyle(true));
        return builder.build();
    }

    @Override
    public byte[] fetch(String bucket, String key) {
        String effectiveBucket = bucket == null ? defaultBucket : bucket;
        if (!allowedBuckets.contains(effectiveBucket)) {
            throw new PermanentJobException("bucket \"" + effectiveBucket + "\" is not in the allowed list");
        }
        if (key == null || key.isEmpty()) {
            throw new PermanentJobException("audio object key is empty");
        }
        String location = "s3://" + effectiveBucket + "/" + key;
        if (hasDotSegment(key)) {
            // Legal in S3, but HTTP clients and S3-compatible servers may resolve "." and ".." (RFC 3986
            // §5.2.4) and so read another object than the key names (S3Proxy serves "a/../b" as "b"): never sent
            throw new PermanentJobException("audio object key of " + location
                    + " has a \".\" or \"..\" path segment, which may resolve to another object");
        }

        return call(location, () -> {
            try (ResponseInputStream<GetObjectResponse> body =
                         s3.getObject(b -> b.bucket(effectiveBucket).key(key))) {
                Long size = body.response().contentLength();
                if (size != null && size > maxBytes) {
                    body.abort(); // close the connection instead of draining the body into it
                    throw new PermanentJobException("audio object is " + size + " bytes, over the limit of "
                            + maxBytes + " bytes");
                }
                byte[] bytes = readBounded(body, size == null ? 0 : size, location);
                if (bytes.length == 0) {
                    throw new PermanentJobException("audio object " + location + " is empty");
                }
                return bytes;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        });
    }

    /** Whether a "/"-separated segment of the key is "." or "..". */
    static boolean hasDotSegment(String key) {
        for (String segment : key.split("/", -1)) {
            if (segment.equals(".") || segment.equals("..")) {
                return true;
            }
        }
        return false;
    }

    /** Closes the S3 client if this source built it. */
    @Override
    public void close() {
        if (ownsClient) {
            s3.close();
        }
    }

    private byte[] readBounded(ResponseInputStream<GetObjectResponse> body, long expectedSize, String location)
            throws IOException {
        // The length is the server's word: a sizing hint only, never trusted below zero or above the limit. With
        // a right length the body is read straight into an array of its size: no growing buffer and no copy of
        // it at the end (a copy of the whole object, and twice its size in heap while it is made)
        int hint = (int) Math.max(0, Math.min(expectedSize, maxBytes));
        byte[] sized = new byte[hint];
        int filled = body.readNBytes(sized, 0, hint);
        if (filled < hint) {
            return Arrays.copyOf(sized, filled); // a body shorter than its length: what came is what there is
        }
        int next = body.read();
        if (next == -1) {
            return sized;
        }
        // A missing or short length: the rest is read until the end or the limit
        ByteArrayOutputStream out =
                new ByteArrayOutputStream((int) Math.min(maxBytes, Math.max(2L * hint, 64 * 1024)));
        out.write(sized, 0, hint);
        out.write(next);
        byte[] buffer = new byte[64 * 1024];
        long total = hint + 1L;
        for (int n; total <= maxBytes && (n = body.read(buffer)) != -1; ) {
            total += n;
            out.write(buffer, 0, n);
        }
        if (total > maxBytes) {
            // Stop the transfer instead of draining the rest of a huge object over the connection
            body.abort();
            throw new PermanentJobException("audio object " + location + " is over the limit of " + maxBytes
                    + " bytes");
        }
        return out.toByteArray();
    }

    private interface S3Call<T> {
        T run();
    }

    /** Runs one S3 call and classifies its failure once, here at the client boundary. */
    private static <T> T call(String location, S3Call<T> call) {
        try {
            return call.run();
        } catch (PermanentJobException e) {
            throw e;
        } catch (NoSuchKeyException | NoSuchBucketException e) {
            throw new PermanentJobException("audio object " + location + " not found", e);
        } catch (SdkServiceException e) {
            throw classifyServiceError(location, e);
        } catch (ApiCallTimeoutException | ApiCallAttemptTimeoutException e) {
            throw new TransientJobException("S3 timed out reading " + location, e);
        } catch (AbortedException e) {
            // The worker was interrupted (deadline, shutdown): the job was not at fault
            Thread.currentThread().interrupt();
            throw new TransientJobException("S3 read of " + location + " was interrupted", e);
        } catch (SdkClientException | UncheckedIOException e) {
            // Connection refused or reset, DNS, a broken body stream: the network, not the object
            throw new TransientJobException("S3 unreachable reading " + location + ": " + oneLine(e), e);
        } catch (SdkException e) {
            throw new TransientJobException("S3 failed reading " + location + ": " + oneLine(e), e);
        }
    }

    private static RuntimeException classifyServiceError(String location, SdkServiceException e) {
        int status = e.statusCode();
        if (status == 404) {
            // an S3-compatible server may answer 404 without an error body the SDK can name
            return new PermanentJobException("audio object " + location + " not found", e);
        }
        if (e.isThrottlingException() || status >= 500 || status == 408 || status == 429) {
            return new TransientJobException("S3 unavailable reading " + location + " (HTTP " + status + ")", e);
        }
        if (status == 403) {
            // S3 answers 403 for a missing key when the role may not list the bucket
            return new PermanentJobException("access to audio object " + location
                    + " denied (it may not exist, or the worker lacks s3:GetObject)", e);
        }
        log.warn("S3 rejected a read: location={} status={} error={}", location, status, oneLine(e));
        return new PermanentJobException("S3 rejected reading " + location + " (HTTP " + status + ")", e);
    }

    private static String oneLine(Exception e) {
        String message = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
        return message.replaceAll("\\s+", " ").strip();
    }
}
