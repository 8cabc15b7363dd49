package dev.timbre.local;

import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import org.gaul.s3proxy.BlobStores;
import org.gaul.s3proxy.S3Proxy;
import org.gaul.s3proxy.auth.AuthenticationType;
import org.gaul.s3proxy.blobstore.BlobStore;
import org.gaul.s3proxy.blobstore.ForwardingBlobStore;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.ResponseInputStream;
import software.amazon.awssdk.core.sync.RequestBody;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectRequest;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;
import software.amazon.awssdk.services.s3.model.HeadObjectRequest;
import software.amazon.awssdk.services.s3.model.HeadObjectResponse;

/**
 * A real S3 protocol server inside this JVM (S3Proxy), on 127.0.0.1 and a free port, for the local demo, tests
 * and benchmarks. Path-style addressing, AWS v2/v4 signatures checked against {@link #ACCESS_KEY}/
 * {@link #SECRET_KEY}. Objects live in memory ({@link #start()}) or under a directory
 * ({@link #startFilesystem(Path)}). An optional latency before each object read models a remote S3.
 *
 * <p>Thread-safe. The caller closes it.
 */
public final class EmbeddedS3 implements AutoCloseable {

    public static final String ACCESS_KEY = "timbre-local";
    public static final String SECRET_KEY = "timbre-local-secret";
    public static final String REGION = "us-east-1";

    private static final Logger log = LoggerFactory.getLogger(EmbeddedS3.class);
    private static final Duration START_TIMEOUT = Duration.ofSeconds(30);

    private final S3Proxy proxy;
    private final URI endpoint;
    private final S3Client adminClient;
    private final AtomicBoolean stopped = new AtomicBoolean();

    private EmbeddedS3(S3Proxy proxy, URI endpoint) {
        this.proxy = proxy;
        this.endpoint = endpoint;
        this.adminClient = newClient();
    }

    /** An in-memory server: objects vanish when it stops. */
    public static EmbeddedS3 start() {
        return start(BlobStores.create("transient", new Properties()), Duration.ZERO);
    }

    /** An in-memory server that waits {@code readLatency} before answering each HEAD and GET of an object. */
    public static EmbeddedS3 startWithReadLatency(Duration readLatency) {
        return start(BlobStores.create("transient", new Properties()), readLatency);
    }

    /** A server keeping objects as files under {@code baseDir} (created if missing), surviving restarts. */
    public static EmbeddedS3 startFilesystem(Path baseDir) {
        try {
            Files.createDirectories(baseDir);
        } catch (java.io.IOException e) {
            throw new IllegalStateException("cannot create S3 directory " + baseDir, e);
        }
        Properties properties = new Properties();
        properties.setProperty("jclouds.filesystem.basedir", baseDir.toAbsolutePath().toString());
        return start(BlobStores.create("filesystem", properties), Duration.ZERO);
    }

    private static EmbeddedS3 start(BlobStore blobStore, Duration readLatency) {
        long started = System.nanoTime();
        BlobStore served = readLatency.isZero() ? blobStore : new ReadLatencyBlobStore(blobStore, readLatency);
        S3Proxy proxy = S3Proxy.builder()
                .blobStore(served)
                .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY)
                .endpoint(URI.create("http://127.0.0.1:0"))
                .build();
        try {
            proxy.start();
            awaitStarted(proxy);
        } catch (Exception e) {
            stopQuietly(proxy);
            throw new IllegalStateException("embedded S3 did not start: " + e.getMessage(), e);
        }
        URI endpoint = URI.create("http://127.0.0.1:" + proxy.getPort());
        log.info("embedded S3 started: endpoint={} readLatencyMs={} ms={}", endpoint, readLatency.toMillis(),
                (System.nanoTime() - started) / 1_000_000);
        return new EmbeddedS3(proxy, endpoint);
    }

    /** Where SDK clients send requests ({@code AWS_ENDPOINT_URL_S3}). */
    public URI endpoint() {
        return endpoint;
    }

    /** The environment a Timbre process needs to reach this server. */
    public Map<String, String> env() {
        return Map.of("AWS_ENDPOINT_URL_S3", endpoint.toString(), "AWS_REGION", REGION,
                "AWS_ACCESS_KEY_ID", ACCESS_KEY, "AWS_SECRET_ACCESS_KEY", SECRET_KEY);
    }

    /** A new path-style SDK client for this server; the caller closes it. */
    public S3Client newClient() {
        return S3Client.builder()
                .endpointOverride(endpoint)
                .region(Region.of(REGION))
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create(ACCESS_KEY, SECRET_KEY)))
                .httpClient(UrlConnectionHttpClient.create())
                .build();
    }

    /** Creates the bucket; an existing bucket of that name is kept. */
    public void createBucket(String bucket) {
        try {
            adminClient.createBucket(b -> b.bucket(bucket));
        } catch (software.amazon.awssdk.services.s3.model.BucketAlreadyOwnedByYouException
                 | software.amazon.awssdk.services.s3.model.BucketAlreadyExistsException e) {
            log.debug("bucket already exists: bucket={}", bucket);
        }
    }

    /** Uploads {@code bytes} as {@code s3://bucket/key}. */
    public void put(String bucket, String key, byte[] bytes) {
        adminClient.putObject(b -> b.bucket(bucket).key(key), RequestBody.fromBytes(bytes));
    }

    /** Stops the server; connections to {@link #endpoint()} are refused afterwards. Idempotent. */
    public void stop() {
        if (stopped.compareAndSet(false, true)) {
            stopQuietly(proxy);
            log.info("embedded S3 stopped: endpoint={}", endpoint);
        }
    }

    @Override
    public void close() {
        adminClient.close();
        stop();
    }

    private static void awaitStarted(S3Proxy proxy) throws InterruptedException, TimeoutException {
        long deadline = System.nanoTime() + START_TIMEOUT.toNanos();
        while (!"STARTED".equals(proxy.getState())) {
            if (System.nanoTime() > deadline) {
                throw new TimeoutException("state " + proxy.getState() + " after " + START_TIMEOUT.toSeconds() + " s");
            }
            Thread.sleep(10); // Jetty offers no start latch through S3Proxy's API; poll its state with a deadline
        }
    }

    private static void stopQuietly(S3Proxy proxy) {
        try {
            proxy.stop();
        } catch (Exception e) {
            log.warn("embedded S3 did not stop cleanly: {}", e.toString());
        }
    }

    /** Delays object reads, to model the round trip to a remote S3 in benchmarks. */
    private static final class ReadLatencyBlobStore extends ForwardingBlobStore {
        private final long latencyMillis;

        ReadLatencyBlobStore(BlobStore delegate, Duration latency) {
            super(delegate);
            this.latencyMillis = latency.toMillis();
        }

        @Override
        public HeadObjectResponse blobMetadata(HeadObjectRequest request) {
            pause();
            return super.blobMetadata(request);
        }

        @Override
        public ResponseInputStream<GetObjectResponse> getBlob(GetObjectRequest request) {
            pause();
            return super.getBlob(request);
        }

        private void pause() {
            try {
                Thread.sleep(latencyMillis);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
