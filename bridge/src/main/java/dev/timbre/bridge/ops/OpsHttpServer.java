package dev.timbre.bridge.ops;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.exporter.httpserver.MetricsHandler;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;

/**
 * {@code GET /healthz}: 200 only while the bridge is connected to RabbitMQ (consuming) and SQS answers, else 503;
 * the body says which side is down, and {@code "halted":true} when consuming was stopped for a fault redelivery would
 * only repeat. {@code GET /metrics}: Prometheus text format.
 *
 * <p>Thread-safe; requests are served by two daemon threads.
 */
public final class OpsHttpServer implements AutoCloseable {

    private final HttpServer server;
    private final ExecutorService executor;

    public OpsHttpServer(int port, BridgeMetrics metrics, BooleanSupplier amqpReady, BooleanSupplier sqsReady)
            throws IOException {
        server = HttpServer.create(new InetSocketAddress(port), 16);
        executor = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "bridge-http");
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(executor);
        server.createContext("/metrics", new MetricsHandler(metrics.registry()));
        server.createContext("/healthz", exchange -> health(exchange, amqpReady.getAsBoolean(), sqsReady.getAsBoolean(),
                metrics.isHalted()));
        server.start();
    }

    public int port() {
        return server.getAddress().getPort();
    }

    private static void health(HttpExchange exchange, boolean amqp, boolean sqs, boolean halted) throws IOException {
        // halted: consuming stopped for a fault only an operator can fix (the log says which); not a restart's job
        byte[] body = ("{\"ready\":" + (amqp && sqs) + ",\"amqp\":" + amqp + ",\"sqs\":" + sqs
                + (halted ? ",\"halted\":true" : "") + "}\n")
                .getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(amqp && sqs ? 200 : 503, body.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(body);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        executor.shutdownNow();
    }
}
