package dev.timbre.blackbox;

import dev.timbre.local.EmbeddedS3;
import dev.timbre.local.EmbeddedSqs;
import java.io.IOException;
import java.net.URI;

/**
 * One local AWS stand-in in its own JVM, as a user would run a local SQS or S3 next to Timbre: {@code sqs}
 * (ElasticMQ) or {@code s3} (S3Proxy, in-memory, credentials {@link EmbeddedS3#ACCESS_KEY}/{@link
 * EmbeddedS3#SECRET_KEY}) on 127.0.0.1 and a free port. Prints {@code endpoint=URL} on stdout once it accepts
 * connections, then serves until its stdin closes (the test JVM closed it, or ended) or it is sent SIGTERM.
 */
public final class LocalServerMain {

    private LocalServerMain() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1 || !(args[0].equals("sqs") || args[0].equals("s3"))) {
            System.err.println("usage: LocalServerMain sqs|s3");
            System.exit(2);
        }
        AutoCloseable server;
        URI endpoint;
        if (args[0].equals("sqs")) {
            EmbeddedSqs sqs = EmbeddedSqs.start();
            server = sqs;
            endpoint = sqs.endpoint();
        } else {
            EmbeddedS3 s3 = EmbeddedS3.start();
            server = s3;
            endpoint = s3.endpoint();
        }
        System.out.println("endpoint=" + endpoint);
        System.out.flush();
        // stdin is the tie to the test JVM: when it ends, for whatever reason, this server ends too
        while (System.in.read() != -1) {
            // nothing is expected on stdin
        }
        try {
            server.close();
        } catch (Exception e) {
            System.err.println("server did not close cleanly: " + e);
        }
        System.exit(0);
    }
}
