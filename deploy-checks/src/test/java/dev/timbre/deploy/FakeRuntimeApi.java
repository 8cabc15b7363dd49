package dev.timbre.deploy;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The Lambda Runtime API (2018-06-01) as the runtime interface client uses it, served from the test JVM:
 * {@code GET /runtime/invocation/next} hands out queued events with the request id, deadline and function ARN
 * headers; {@code POST .../response}, {@code .../error} and {@code /runtime/init/error} are recorded and answered
 * 202 (the RIC insists on exactly 202 for errors). When no event is queued within the wait, {@code next} answers
 * 500 with a Content-Type, which makes the RIC exit 1: the clean way to stop the child JVM (without the
 * Content-Type the RIC's native client crashes with SIGSEGV).
 *
 * <p>Thread-safe; {@code next} long-polls, so the server runs on a cached pool. Close it to free the port.
 */
final class FakeRuntimeApi implements AutoCloseable {

    static final String PREFIX = "/2018-06-01/runtime";
    static final String FUNCTION_ARN = "arn:aws:lambda:us-east-1:123456789012:function:timbre-voice-embedding";

    /** What the runtime posted for one invocation (or for init). */
    record Posted(String path, Map<String, List<String>> headers, String body, long atNanos) {
        String header(String name) {
            for (Map.Entry<String, List<String>> e : headers.entrySet()) {
                if (e.getKey() != null && e.getKey().equalsIgnoreCase(name)) {
                    return e.getValue().get(0);
                }
            }
            return null;
        }
    }

    private record Invocation(String requestId, String event, long timeoutMs) {
    }

    private final HttpServer server;
    private final ExecutorService pool = Executors.newCachedThreadPool(r -> {
        Thread t = new Thread(r, "fake-runtime-api");
        t.setDaemon(true);
        return t;
    });
    private final BlockingQueue<Invocation> pending = new LinkedBlockingQueue<>();
    private final Map<String, CompletableFuture<Posted>> outcomes = new ConcurrentHashMap<>();
    private final CompletableFuture<Posted> initError = new CompletableFuture<>();
    private final CompletableFuture<Long> firstNext = new CompletableFuture<>();
    private final List<Long> handedOut = new CopyOnWriteArrayList<>();
    private final Duration nextWait;

    FakeRuntimeApi(Duration nextWait) throws IOException {
        this.nextWait = nextWait;
        server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
        server.setExecutor(pool);
        server.createContext(PREFIX + "/invocation/", this::invocation);
        server.createContext(PREFIX + "/init/error", exchange -> {
            initError.complete(read(exchange));
            answer(exchange, 202, "{\"status\":\"OK\"}");
        });
        server.start();
    }

    /** host:port, the value of AWS_LAMBDA_RUNTIME_API. */
    String address() {
        return "127.0.0.1:" + server.getAddress().getPort();
    }

    /**
     * Queues an event with the function timeout it runs under; the returned future completes with what the
     * runtime posted for it.
     */
    CompletableFuture<Posted> invoke(String event, Duration timeout) {
        String id = UUID.randomUUID().toString();
        CompletableFuture<Posted> outcome = new CompletableFuture<>();
        outcomes.put(id, outcome);
        pending.add(new Invocation(id, event, timeout.toMillis()));
        return outcome;
    }

    CompletableFuture<Posted> initError() {
        return initError;
    }

    /** System.nanoTime() of the first {@code next}: the runtime has loaded and constructed the handler by then. */
    CompletableFuture<Long> firstNext() {
        return firstNext;
    }

    /** System.nanoTime() of each invocation handed out by {@code next}, in order. */
    List<Long> handedOut() {
        return List.copyOf(handedOut);
    }

    private void invocation(HttpExchange exchange) throws IOException {
        String path = exchange.getRequestURI().getPath();
        if (exchange.getRequestMethod().equals("GET") && path.equals(PREFIX + "/invocation/next")) {
            firstNext.complete(System.nanoTime());
            Invocation next;
            try {
                next = pending.poll(nextWait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                next = null;
            }
            if (next == null) {
                answer(exchange, 500, "{\"errorMessage\":\"test over\"}");
                return;
            }
            exchange.getResponseHeaders().add("Lambda-Runtime-Aws-Request-Id", next.requestId());
            // As in Lambda, the clock starts when the invocation is handed out, not when it was queued
            exchange.getResponseHeaders().add("Lambda-Runtime-Deadline-Ms",
                    Long.toString(System.currentTimeMillis() + next.timeoutMs()));
            exchange.getResponseHeaders().add("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN);
            exchange.getResponseHeaders().add("Lambda-Runtime-Trace-Id",
                    "Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=0");
            handedOut.add(System.nanoTime());
            answer(exchange, 200, next.event());
            return;
        }
        // /invocation/{id}/response or /invocation/{id}/error
        String[] parts = path.substring((PREFIX + "/invocation/").length()).split("/");
        Posted posted = read(exchange);
        CompletableFuture<Posted> outcome = parts.length == 2 ? outcomes.get(parts[0]) : null;
        if (outcome == null) {
            answer(exchange, 404, "{\"errorMessage\":\"unknown request id\"}");
            return;
        }
        outcome.complete(posted);
        answer(exchange, 202, "{\"status\":\"OK\"}");
    }

    private static Posted read(HttpExchange exchange) throws IOException {
        try (InputStream in = exchange.getRequestBody()) {
            return new Posted(exchange.getRequestURI().getPath(), Map.copyOf(exchange.getRequestHeaders()),
                    new String(in.readAllBytes(), StandardCharsets.UTF_8), System.nanoTime());
        }
    }

    private static void answer(HttpExchange exchange, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        server.stop(0);
        pool.shutdownNow();
    }
}
