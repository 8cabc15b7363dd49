package dev.timbre.common.health;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

class HealthServerTest {

    private final HttpClient http = HttpClient.newHttpClient();

    private HttpResponse<String> get(HealthServer server, String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path)).build(),
                HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void answersJsonWith200WhileHealthyAnd503Otherwise() throws Exception {
        AtomicBoolean up = new AtomicBoolean(true);
        try (HealthServer server = HealthServer.start(0, "health-test", () -> {
            Map<String, Object> details = new LinkedHashMap<>();
            details.put("amqp", up.get());
            details.put("sqs", true);
            return new Health(up.get(), details);
        })) {
            HttpResponse<String> ok = get(server, "/healthz");
            assertEquals(200, ok.statusCode());
            assertEquals("{\"status\":\"ok\",\"amqp\":true,\"sqs\":true}\n", ok.body());
            assertEquals("application/json", ok.headers().firstValue("Content-Type").orElseThrow());

            up.set(false);
            HttpResponse<String> down = get(server, "/healthz");
            assertEquals(503, down.statusCode());
            assertEquals("{\"status\":\"unhealthy\",\"amqp\":false,\"sqs\":true}\n", down.body());
        }
    }

    @Test
    void servesTheOtherPathsItIsGiven() throws Exception {
        try (HealthServer server = HealthServer.start(0, "health-test", () -> Health.of(true), Map.of("/metrics",
                exchange -> {
                    byte[] body = "up 1\n".getBytes(StandardCharsets.UTF_8);
                    exchange.sendResponseHeaders(200, body.length);
                    exchange.getResponseBody().write(body);
                    exchange.close();
                }))) {
            assertEquals("up 1\n", get(server, "/metrics").body());
            assertEquals("{\"status\":\"ok\"}\n", get(server, "/healthz").body());
        }
    }

    @Test
    void detailsAreEscapedAndStatusIsReserved() {
        assertEquals("{\"status\":\"unhealthy\",\"reason\":\"a \\\"b\\\" \\\\ \\u000a\",\"n\":3}",
                new Health(false, orderedOf("reason", "a \"b\" \\ \n", "n", 3)).json());
        assertThrows(IllegalArgumentException.class, () -> new Health(true, Map.of("status", "x")));
    }

    private static Map<String, Object> orderedOf(String k1, Object v1, String k2, Object v2) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put(k1, v1);
        m.put(k2, v2);
        return m;
    }
}
