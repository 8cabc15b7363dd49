package dev.timbre.common.health;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * The HTTP server of every Timbre service: {@code GET /healthz} answers {@link Health#json()} with 200 while
 * healthy and 503 otherwise (the ECS container health check runs {@code curl -f} on it), plus whatever other
 * paths the service adds ({@code /metrics}). The JDK's server on two daemon threads: a probe needs nothing more,
 * and a slow scrape must not hold up the health check.
 *
 * <p>Thread-safe; the caller closes it.
 */
public final class HealthServer implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor;

    private HealthServer(HttpServer server, ExecutorService executor) {
        this.server = server;
        this.executor = executor;
    }

    /** {@code /healthz} only. */
    public static HealthServer start(int port, String threadName, Supplier<Health> health) {
        return start(port, threadName, health, Map.of());
    }

    /**
     * @param port       0 for a free port
     * @param threadName names the server's threads in thread dumps and logs
     * @param health     asked on every request
     * @param more       further paths and their handlers, e.g. {@code /metrics}
     * @throws UncheckedIOException when the port cannot be bound
     */
    public static HealthServer start(int port, String threadName, Supplier<Health> health,
            Map<String, HttpHandler> more) {
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(port), 16);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot serve /healthz on port " + port + ": " + e.getMessage(), e);
        }
        ExecutorService executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, threadName);
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/healthz", exchange -> respond(exchange, health.get()));
        more.forEach(server::createContext);
        server.start();
        return new HealthServer(server, executor);
    }

    private static void respond(HttpExchange exchange, Health health) throws IOException {
        byte[] body = (health.json() + "\n").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(health.healthy() ? 200 : 503, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    /** The bound port (useful when started with 0). */
    public int port() {
        return server.getAddress().getPort();
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
