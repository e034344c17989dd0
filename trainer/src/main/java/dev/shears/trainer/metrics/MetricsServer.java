package dev.shears.trainer.metrics;

import com.sun.net.httpserver.HttpServer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;

/**
 * Serves a Prometheus registry at {@code /metrics} (and {@code /health}) over HTTP, bound to
 * loopback unless told otherwise.
 */
public final class MetricsServer implements AutoCloseable {
    private final PrometheusMeterRegistry registry;
    private final HttpServer server;
    private volatile byte[] health = "ok\n".getBytes(StandardCharsets.UTF_8);
    private volatile Runnable beforeScrape = () -> {};

    private MetricsServer(PrometheusMeterRegistry registry, HttpServer server) {
        this.registry = registry;
        this.server = server;
    }

    /**
     * Starts serving.
     *
     * @param host the address to bind, e.g. 127.0.0.1 (default) or 0.0.0.0 to expose it
     * @param port the port; 0 picks a free one
     * @throws IOException when the port is taken; the message names it and the fix
     */
    public static MetricsServer start(String host, int port) throws IOException {
        PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        HttpServer server;
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 16);
        } catch (IOException e) {
            throw new IOException("cannot serve metrics on " + host + ":" + port + ": " + e.getMessage()
                    + " (fix: choose another port with --metrics-port, or 0 for any free one)", e);
        }
        MetricsServer metrics = new MetricsServer(registry, server);
        server.createContext("/metrics", exchange -> {
            metrics.beforeScrape.run();
            byte[] body = registry.scrape().getBytes(StandardCharsets.UTF_8);
            exchange.getResponseHeaders().set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.createContext("/health", exchange -> {
            byte[] body = metrics.health;
            exchange.sendResponseHeaders(200, body.length);
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(body);
            }
        });
        server.setExecutor(null);
        server.start();
        return metrics;
    }

    /**
     * What {@code /health} answers from now on, with status 200: {@code ok} until this is called, e.g. the worker's
     * {@code {"status":"ok","backend":"CPU","devices":["cpu"],"threads":1}}.
     */
    public void health(String body) {
        health = (body.endsWith("\n") ? body : body + "\n").getBytes(StandardCharsets.UTF_8);
    }

    /** Runs {@code task} before every scrape, e.g. {@link TrainerMetrics#sweep}: it sees the meters as they are then. */
    public void beforeScrape(Runnable task) {
        beforeScrape = task;
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** The URL of the metrics endpoint. */
    public String url() {
        InetSocketAddress a = server.getAddress();
        return "http://" + a.getHostString() + ":" + a.getPort() + "/metrics";
    }

    @Override
    public void close() {
        server.stop(0);
        registry.close();
    }
}
