package dev.timbre.chaos;

import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicLong;
import software.amazon.awssdk.core.interceptor.Context.ModifyHttpRequest;
import software.amazon.awssdk.core.interceptor.ExecutionAttributes;
import software.amazon.awssdk.core.interceptor.ExecutionInterceptor;
import software.amazon.awssdk.http.SdkHttpRequest;


/**
 * For a window of time, sends S3 requests to a 503 SlowDown endpoint or a closed port, or delays them. Windows,
 * not request counts: a count would be soaked up by the few jobs left at the end of a run, which then fail
 * on every receive; an outage hits whatever runs while it lasts.
 */
final class S3Faults implements ExecutionInterceptor, AutoCloseable {
    /** A batch of three on two threads whose GETs stall this long runs past the 5 s the deadline leaves. */
    private static final Duration S3_STALL = Duration.ofMillis(3000);
    private final AtomicLong slowDownUntil = new AtomicLong();
    private final AtomicLong refuseUntil = new AtomicLong();
    private final AtomicLong latencyUntil = new AtomicLong();
    private final HttpServer slowDownServer;
    private final int closedPort;

    S3Faults() throws IOException {
        slowDownServer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        slowDownServer.createContext("/", exchange -> {
            byte[] body = ("<?xml version=\"1.0\" encoding=\"UTF-8\"?><Error><Code>SlowDown</Code>"
                    + "<Message>Please reduce your request rate.</Message></Error>").getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().add("Content-Type", "application/xml");
            exchange.sendResponseHeaders(503, exchange.getRequestMethod().equals("HEAD") ? -1 : body.length);
            if (!exchange.getRequestMethod().equals("HEAD")) {
                exchange.getResponseBody().write(body);
            }
            exchange.close();
        });
        slowDownServer.start();
        try (ServerSocket probe = new java.net.ServerSocket(0)) {
            closedPort = probe.getLocalPort(); // closed again: connections are refused
        }
    }

    void slowDownFor(Duration d) {
        slowDownUntil.set(System.nanoTime() + d.toNanos());
    }

    void refuseFor(Duration d) {
        refuseUntil.set(System.nanoTime() + d.toNanos());
    }

    void delayFor(Duration d) {
        latencyUntil.set(System.nanoTime() + d.toNanos());
    }

    void clear() {
        long now = System.nanoTime();
        slowDownUntil.set(now);
        refuseUntil.set(now);
        latencyUntil.set(now);
    }

    @Override
    public SdkHttpRequest modifyHttpRequest(ModifyHttpRequest context, ExecutionAttributes attributes) {
        SdkHttpRequest request = context.httpRequest();
        long now = System.nanoTime();
        if (now < slowDownUntil.get()) {
            return request.toBuilder().port(slowDownServer.getAddress().getPort()).build();
        }
        if (now < refuseUntil.get()) {
            return request.toBuilder().port(closedPort).build();
        }
        if (now < latencyUntil.get()) {
            try {
                Thread.sleep(S3_STALL.toMillis());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        return request;
    }

    @Override
    public void close() {
        slowDownServer.stop(0);
    }
}
