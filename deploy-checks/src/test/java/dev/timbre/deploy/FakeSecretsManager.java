package dev.timbre.deploy;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * Secrets Manager's GetSecretValue (AWS JSON 1.1) for one secret, on a local port: what the function reads at
 * cold start through {@code TIMBRE_DB_SECRET_ARN}. Records the secret ids asked for.
 */
final class FakeSecretsManager implements AutoCloseable {

    private final HttpServer server;
    final List<String> requests = new CopyOnWriteArrayList<>();

    FakeSecretsManager(String secretId, String username, String password) throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/", exchange -> {
            String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
            requests.add(body);
            byte[] out;
            int status;
            if (body.contains("\"" + secretId + "\"")) {
                status = 200;
                String secret = "{\\\"username\\\":\\\"" + username + "\\\",\\\"password\\\":\\\"" + password + "\\\"}";
                out = ("{\"ARN\":\"" + secretId + "\",\"Name\":\"db\",\"SecretString\":\"" + secret
                        + "\",\"VersionId\":\"v1\"}").getBytes(StandardCharsets.UTF_8);
            } else {
                status = 400;
                exchange.getResponseHeaders().add("x-amzn-ErrorType", "ResourceNotFoundException");
                out = "{\"__type\":\"ResourceNotFoundException\",\"message\":\"no such secret\"}"
                        .getBytes(StandardCharsets.UTF_8);
            }
            exchange.getResponseHeaders().add("Content-Type", "application/x-amz-json-1.1");
            exchange.sendResponseHeaders(status, out.length);
            exchange.getResponseBody().write(out);
            exchange.close();
        });
        server.start();
    }

    String endpoint() {
        return "http://127.0.0.1:" + server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
