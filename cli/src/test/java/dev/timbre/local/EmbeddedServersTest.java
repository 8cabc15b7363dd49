package dev.timbre.local;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.testing.FakeQdrant;
import dev.timbre.testing.TestDatabase;
import io.qdrant.client.PointIdFactory;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.ValueFactory;
import io.qdrant.client.VectorsFactory;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.UpdateStatus;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.MessageSystemAttributeName;

/**
 * All embedded servers in one JVM at once, each used through its real client: proves their dependencies
 * (Jackson 2 and 3, Netty, gRPC, Guava, Scala/Pekko, Jetty) coexist on one classpath.
 */
class EmbeddedServersTest {

    @Test
    void allServersRunSideBySideAndAnswerTheirRealClients() throws Exception {
        try (EmbeddedSqs sqs = EmbeddedSqs.start();
             EmbeddedS3 s3 = EmbeddedS3.start();
             FakeQdrant qdrant = FakeQdrant.startWithTcp();
             TestDatabase db = TestDatabase.create()) {

            // S3: a path-style put and get through the SDK
            s3.createBucket("uploads");
            s3.put("uploads", "voices/a.wav", "RIFF-bytes".getBytes(StandardCharsets.UTF_8));
            try (S3Client client = s3.newClient()) {
                byte[] read = client.getObjectAsBytes(b -> b.bucket("uploads").key("voices/a.wav")).asByteArray();
                assertEquals("RIFF-bytes", new String(read, StandardCharsets.UTF_8));
            }

            // SQS: after maxReceiveCount receives without delete, the next receive moves the message to the DLQ
            EmbeddedSqs.QueuePair queues = sqs.createQueueWithDlq("jobs", 2, Duration.ofSeconds(0));
            assertEquals(sqs.endpoint() + "/000000000000/jobs", queues.queueUrl(), "queue URLs name the real port");
            assertEquals(sqs.endpoint() + "/000000000000/jobs-dlq", queues.dlqUrl());
            try (SqsClient client = sqs.newClient()) {
                client.sendMessage(b -> b.queueUrl(queues.queueUrl()).messageBody("{\"job_id\":\"x\"}"));
                for (int receive = 1; receive <= 2; receive++) {
                    List<Message> got = client.receiveMessage(b -> b.queueUrl(queues.queueUrl())
                            .messageSystemAttributeNames(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT)
                            .waitTimeSeconds(1)).messages();
                    assertEquals(1, got.size(), "receive " + receive);
                    assertEquals(String.valueOf(receive),
                            got.get(0).attributes().get(MessageSystemAttributeName.APPROXIMATE_RECEIVE_COUNT));
                }
                assertEquals(0, client.receiveMessage(b -> b.queueUrl(queues.queueUrl()).waitTimeSeconds(1))
                        .messages().size(), "the third receive finds the message gone to the DLQ");
                List<Message> dead = client.receiveMessage(b -> b.queueUrl(queues.dlqUrl()).waitTimeSeconds(1))
                        .messages();
                assertEquals(List.of("{\"job_id\":\"x\"}"), dead.stream().map(Message::body).toList());
            }

            // Qdrant: the real client, in-process and over TCP, sees the same state
            UUID id = UUID.randomUUID();
            try (QdrantClient inProcess = qdrant.newClient()) {
                inProcess.createCollectionAsync("c", VectorParams.newBuilder().setSize(3)
                        .setDistance(Distance.Cosine).build()).get(5, TimeUnit.SECONDS);
                var result = inProcess.upsertAsync("c", List.of(PointStruct.newBuilder()
                        .setId(PointIdFactory.id(id))
                        .setVectors(VectorsFactory.vectors(1f, 0f, 0f))
                        .putAllPayload(Map.of("voice_id", ValueFactory.value("v1")))
                        .build())).get(5, TimeUnit.SECONDS);
                assertEquals(UpdateStatus.Completed, result.getStatus());
            }
            try (QdrantClient overTcp = new QdrantClient(
                    QdrantGrpcClient.newBuilder("127.0.0.1", qdrant.tcpPort(), false).build())) {
                List<RetrievedPoint> points = overTcp.retrieveAsync("c", PointIdFactory.id(id), true, true, null)
                        .get(5, TimeUnit.SECONDS);
                assertEquals(1, points.size());
                assertEquals("v1", points.get(0).getPayloadMap().get("voice_id").getStringValue());
            }
            assertArrayEquals(new float[] {1f, 0f, 0f}, qdrant.point("c", id).orElseThrow().vector());

            // Postgres: the migrated schema is there
            try (Connection c = db.dataSource().getConnection();
                 ResultSet rs = c.createStatement().executeQuery(
                         "SELECT count(*) FROM voice_processing_jobs, voice_embeddings")) {
                assertTrue(rs.next());
                assertEquals(0, rs.getInt(1));
            }
        }
    }

    @Test
    void filesystemS3KeepsObjectsAcrossRestarts(@TempDir Path dir) {
        try (EmbeddedS3 first = EmbeddedS3.startFilesystem(dir)) {
            first.createBucket("uploads");
            first.put("uploads", "a.wav", new byte[] {1, 2, 3});
        }
        try (EmbeddedS3 second = EmbeddedS3.startFilesystem(dir); S3Client client = second.newClient()) {
            assertArrayEquals(new byte[] {1, 2, 3},
                    client.getObjectAsBytes(b -> b.bucket("uploads").key("a.wav")).asByteArray());
        }
    }

    @Test
    void readLatencyDelaysEachObjectRead() {
        try (EmbeddedS3 slow = EmbeddedS3.startWithReadLatency(Duration.ofMillis(150));
             S3Client client = slow.newClient()) {
            slow.createBucket("uploads");
            slow.put("uploads", "a.wav", new byte[] {1});
            long started = System.nanoTime();

            client.headObject(b -> b.bucket("uploads").key("a.wav"));
            client.getObjectAsBytes(b -> b.bucket("uploads").key("a.wav"));

            long elapsedMs = (System.nanoTime() - started) / 1_000_000;
            assertTrue(elapsedMs >= 300, "HEAD and GET each waited 150 ms: " + elapsedMs + " ms");
        }
    }
}
