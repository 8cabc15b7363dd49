package dev.timbre.ecs;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.function.BooleanSupplier;

/**
 * {@code GET /healthz}: 200 {@code ok} while the worker is healthy, 503 {@code unhealthy} otherwise, for the
 * ECS container health check. JDK server, one thread: a health probe needs nothing more.
 *
 * <p>The caller closes it.
 */
public final class HealthServer implements AutoCloseable {

    private final HttpServer server;

    private HealthServer(HttpServer server) {
        this.server = server;
    }

    /**
     * @param port    0 for a free port
     * @param healthy asked on every request
     */
    public static HealthServer start(int port, BooleanSupplier healthy) {
        try {
            HttpServer server = HttpServer.create(new InetSocketAddress(port), 16);
            server.createContext("/healthz", exchange -> respond(exchange, healthy.getAsBoolean()));
            server.start();
            return new HealthServer(server);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve /healthz on port " + port + ": " + e.getMessage(), e);
        }
    }

    private static void respond(HttpExchange exchange, boolean healthy) throws IOException {
        byte[] body = (healthy ? "ok\n" : "unhealthy\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "text/plain; charset=utf-8");
        exchange.sendResponseHeaders(healthy ? 200 : 503, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
