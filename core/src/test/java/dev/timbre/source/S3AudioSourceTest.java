package dev.timbre.source;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.sun.net.httpserver.HttpServer;
import dev.timbre.config.TimbreConfig;
import dev.timbre.job.PermanentJobException;
import dev.timbre.job.TransientJobException;
import dev.timbre.local.EmbeddedS3;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.SdkResponse;
import software.amazon.awssdk.core.client.config.ClientOverrideConfiguration;
import software.amazon.awssdk.core.interceptor.Context;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.core.interceptor.SdkExecutionAttribute;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.model.GetObjectResponse;

class S3AudioSourceTest {

    private static final String BUCKET = "uploads";
    private static final String OTHER_BUCKET = "partner-uploads";
    private static EmbeddedS3 s3;
    private static final byte[] AUDIO = randomBytes(300_000);

    @BeforeAll
    static void startS3() {
        s3 = EmbeddedS3.start();
        s3.createBucket(BUCKET);
        s3.createBucket(OTHER_BUCKET);
        s3.createBucket("forbidden");
        s3.put(BUCKET, "voices/v1/take 1.wav", AUDIO);
        s3.put(OTHER_BUCKET, "a.wav", AUDIO);
        s3.put("forbidden", "a.wav", AUDIO);
    }

    @AfterAll
    static void stopS3() {
        s3.close();
    }

    /**
     * A client like the production one, recording which operations it sent and optionally rewriting the
     * Content-Length a GET reports (the body is unchanged).
     */
    private static S3Client recordingClient(URI endpoint, List<String> operations, Long reportedSize) {
        return S3Client.builder()
                .endpointOverride(endpoint)
                .region(Region.of(EmbeddedS3.REGION))
                .forcePathStyle(true)
                .credentialsProvider(StaticCredentialsProvider.create(
                        AwsBasicCredentials.create(EmbeddedS3.ACCESS_KEY, EmbeddedS3.SECRET_KEY)))
                .httpClient(UrlConnectionHttpClient.create())
                .overrideConfiguration(ClientOverrideConfiguration.builder()
                        .addExecutionInterceptor(new ExecutionInterceptor() {
                            @Override
                            public void beforeExecution(Context.BeforeExecution context, ExecutionAttributes a) {
                                operations.add(a.getAttribute(SdkExecutionAttribute.OPERATION_NAME));
                            }

                            @Override
                            public SdkResponse modifyResponse(Context.ModifyResponse context, ExecutionAttributes a) {
                                if (reportedSize != null && context.response() instanceof GetObjectResponse get) {
                                    return get.toBuilder().contentLength(reportedSize).build();
                                }
                                return context.response();
                            }
                        })
                        .build())
                .build();
    }

    private static S3AudioSource source(S3Client client, long maxBytes) {
        return new S3AudioSource(client, BUCKET, Set.of(BUCKET, OTHER_BUCKET), maxBytes);
    }

    @Nested
    class Reading {

        @Test
        void readsTheObjectFromTheDefaultBucket() {
            List<String> operations = new CopyOnWriteArrayList<>();
            try (S3Client client = recordingClient(s3.endpoint(), operations, null)) {
                byte[] read = source(client, 1_000_000).fetch(null, "voices/v1/take 1.wav");

                assertArrayEquals(AUDIO, read);
                assertEquals(List.of("GetObject"), operations, "one GET, no HEAD");
            }
        }

        @Test
        void aNegativeContentLengthIsOnlyAHint() {
            try (S3Client client = recordingClient(s3.endpoint(), new CopyOnWriteArrayList<>(), -5L)) {
                assertArrayEquals(AUDIO, source(client, 1_000_000).fetch(null, "voices/v1/take 1.wav"));
            }
        }

        @Test
        void aLengthShorterThanTheBodyStillReadsTheWholeBody() {
            // the body is read into an array of the stated length first; the rest must follow it
            try (S3Client client = recordingClient(s3.endpoint(), new CopyOnWriteArrayList<>(), 10L)) {
                assertArrayEquals(AUDIO, source(client, 1_000_000).fetch(null, "voices/v1/take 1.wav"));
            }
        }

        @Test
        void aLengthLongerThanTheBodyReadsOnlyTheBody() {
            try (S3Client client = recordingClient(s3.endpoint(), new CopyOnWriteArrayList<>(),
                    (long) AUDIO.length + 1000)) {
                assertArrayEquals(AUDIO, source(client, 1_000_000).fetch(null, "voices/v1/take 1.wav"));
            }
        }

        @Test
        void readsFromAnotherAllowedBucket() {
            try (S3Client client = s3.newClient()) {
                assertArrayEquals(AUDIO, source(client, 1_000_000).fetch(OTHER_BUCKET, "a.wav"));
            }
        }

        @Test
        void objectOfExactlyTheLimitIsAccepted() {
            try (S3Client client = s3.newClient()) {
                assertEquals(AUDIO.length, source(client, AUDIO.length).fetch(null, "voices/v1/take 1.wav").length);
            }
        }

        @Test
        void fromConfigUsesTheEndpointFromTheEnvironment() {
            Map<String, String> env = new HashMap<>(Map.of(
                    "TIMBRE_DB_URL", "jdbc:postgresql://127.0.0.1/x", "TIMBRE_DB_USER", "u",
                    "TIMBRE_S3_BUCKET", BUCKET, "TIMBRE_CONVERTER_DIR", ".",
                    "AWS_ENDPOINT_URL_S3", s3.endpoint().toString()));
            // The SDK's default credential chain reads these system properties before the environment
            System.setProperty("aws.accessKeyId", EmbeddedS3.ACCESS_KEY);
            System.setProperty("aws.secretAccessKey", EmbeddedS3.SECRET_KEY);
            try (S3AudioSource source = S3AudioSource.fromConfig(TimbreConfig.fromEnv(env))) {
                assertArrayEquals(AUDIO, source.fetch(null, "voices/v1/take 1.wav"));
            } finally {
                System.clearProperty("aws.accessKeyId");
                System.clearProperty("aws.secretAccessKey");
            }
        }
    }

    @Nested
    class PermanentFailures {

        @Test
        void bucketOutsideTheAllowListIsRejectedWithoutARequest() {
            List<String> operations = new CopyOnWriteArrayList<>();
            try (S3Client client = recordingClient(s3.endpoint(), operations, null)) {
                PermanentJobException e = assertThrows(PermanentJobException.class,
                        () -> source(client, 1_000_000).fetch("forbidden", "a.wav"));

                assertEquals("bucket \"forbidden\" is not in the allowed list", e.getMessage());
                assertEquals(List.of(), operations);
            }
        }

        @Test
        void missingObjectIsNotFound() {
            try (S3Client client = s3.newClient()) {
                PermanentJobException e = assertThrows(PermanentJobException.class,
                        () -> source(client, 1_000_000).fetch(null, "voices/none.wav"));

                assertEquals("audio object s3://uploads/voices/none.wav not found", e.getMessage());
            }
        }

        @Test
        void objectOverTheLimitIsRejectedFromItsContentLengthBeforeTheBodyIsRead() {
            List<String> operations = new CopyOnWriteArrayList<>();
            try (S3Client client = recordingClient(s3.endpoint(), operations, null)) {
                PermanentJobException e = assertThrows(PermanentJobException.class,
                        () -> source(client, AUDIO.length - 1).fetch(null, "voices/v1/take 1.wav"));

                assertEquals("audio object is " + AUDIO.length + " bytes, over the limit of " + (AUDIO.length - 1)
                        + " bytes", e.getMessage());
                assertEquals(List.of("GetObject"), operations, "one request, aborted");
            }
        }

        @Test
        void bodyLongerThanItsContentLengthIsCutOffAtTheLimit() {
            // given: the GET claims 10 bytes, as a broken or hostile S3-compatible server might
            try (S3Client client = recordingClient(s3.endpoint(), new CopyOnWriteArrayList<>(), 10L)) {
                PermanentJobException e = assertThrows(PermanentJobException.class,
                        () -> source(client, 100_000).fetch(null, "voices/v1/take 1.wav"));

                assertEquals("audio object s3://uploads/voices/v1/take 1.wav is over the limit of 100000 bytes",
                        e.getMessage());
            }
        }

        @Test
        void emptyObjectIsRejected() {
            s3.put(BUCKET, "empty.wav", new byte[0]);
            try (S3Client client = s3.newClient()) {
                PermanentJobException e = assertThrows(PermanentJobException.class,
                        () -> source(client, 1_000).fetch(null, "empty.wav"));
                assertEquals("audio object s3://uploads/empty.wav is empty", e.getMessage());
            }
        }
    }

    @Nested
    class TransientFailures {

        @Test
        void stoppedServerIsTransient() {
            EmbeddedS3 doomed = EmbeddedS3.start();
            doomed.createBucket(BUCKET);
            doomed.put(BUCKET, "a.wav", AUDIO);
            try (S3Client client = doomed.newClient()) {
                S3AudioSource source = source(client, 1_000_000);
                assertArrayEquals(AUDIO, source.fetch(null, "a.wav"));

                doomed.stop();

                TransientJobException e = assertThrows(TransientJobException.class, () -> source.fetch(null, "a.wav"));
                assertTrue(e.getMessage().startsWith("S3 unreachable reading s3://uploads/a.wav"), e.getMessage());
            } finally {
                doomed.close();
            }
        }

        @Test
        void throttlingAndServerErrorsAreTransient() throws Exception {
            AtomicInteger requests = new AtomicInteger();
            HttpServer slowDown = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
            slowDown.createContext("/", exchange -> {
                requests.incrementAndGet();
                byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
                        + "<Message>Please reduce your request rate.</Message></Error>")
                        .getBytes(StandardCharsets.UTF_8);
                exchange.getResponseHeaders().add("Content-Type", "application/xml");
                boolean head = exchange.getRequestMethod().equals("HEAD");
                exchange.sendResponseHeaders(503, head ? -1 : body.length);
                if (!head) {
                    exchange.getResponseBody().write(body);
                }
                exchange.close();
            });
            slowDown.start();
            try (S3Client client = recordingClient(URI.create("http://127.0.0.1:" + slowDown.getAddress().getPort()),
                    new CopyOnWriteArrayList<>(), null)) {
                TransientJobException e = assertThrows(TransientJobException.class,
                        () -> source(client, 1_000).fetch(null, "a.wav"));

                assertEquals("S3 unavailable reading s3://uploads/a.wav (HTTP 503)", e.getMessage());
                assertTrue(requests.get() >= 2, "the SDK retried before giving up: " + requests.get());
            } finally {
                slowDown.stop(0);
            }
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] bytes = new byte[n];
        new Random(7).nextBytes(bytes);
        return bytes;
    }
}
