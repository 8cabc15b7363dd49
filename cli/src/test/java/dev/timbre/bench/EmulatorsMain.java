package dev.timbre.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.local.EmbeddedS3;
import dev.timbre.local.EmbeddedSqs;
import dev.timbre.testing.FakeQdrant;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The AWS emulators in a process of their own, for benchmarks that must count the worker's CPU alone: S3Proxy with
 * one bucket, ElasticMQ with a jobs queue and its DLQ, and the Qdrant double ({@link FakeQdrant}, the real gRPC
 * protocol on a TCP port). Prints one JSON line (the SDK variables, the queue URLs and, as {@code QDRANT_URL}, the
 * double's URL), then runs until its standard input closes.
 */
public final class EmulatorsMain {

    private EmulatorsMain() {
    }

    public static void main(String[] args) throws Exception {
        String bucket = args.length > 0 ? args[0] : "timbre-uploads";
        try (EmbeddedS3 s3 = EmbeddedS3.start(); EmbeddedSqs sqs = EmbeddedSqs.start();
             FakeQdrant qdrant = FakeQdrant.startWithTcp()) {
            s3.createBucket(bucket);
            EmbeddedSqs.QueuePair queues = sqs.createQueueWithDlq("jobs", 5, Duration.ofSeconds(60));
            Map<String, String> env = new LinkedHashMap<>();
            env.putAll(s3.env());
            env.putAll(sqs.env());
            env.put("TIMBRE_S3_BUCKET", bucket);
            env.put("TIMBRE_QUEUE_URL", queues.queueUrl());
            env.put("TIMBRE_DLQ_URL", queues.dlqUrl());
            env.put("QDRANT_URL", qdrant.url()); // not the worker's TIMBRE_QDRANT_URL: the benchmark picks the store
            System.out.println(new ObjectMapper().writeValueAsString(env));
            System.out.flush();
            while (System.in.read() >= 0) {
                // runs until the parent closes the pipe (or dies)
            }
        }
    }
}
