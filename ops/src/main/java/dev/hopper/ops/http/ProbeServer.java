package dev.hopper.ops.http;

import static java.util.Objects.requireNonNull;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.hopper.topology.HopperException;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A worker's probe endpoints on the JDK's built-in HTTP server ({@code hopper worker --metrics-port N}):
 *
 * <ul>
 *   <li>{@code GET /metrics}: the registry's meters in the Prometheus text format (version 0.0.4), e.g.
 *       {@code hopper_tasks_processed_total{outcome="success",queue="uploads",type="resize"} 42.0};
 *   <li>{@code GET /health}: {@code 200 UP} while the health check holds (for a worker: connected, and every queue
 *       consuming or deliberately paused by its circuit breaker or a store outage), {@code 503 DOWN} otherwise
 *       (broker connection down or recovering, worker not started or stopped). Use it for liveness and readiness.
 * </ul>
 *
 * Other paths answer 404, other methods than GET and HEAD 405. Bind to loopback (the default of
 * {@code hopper worker}) unless a scraper on another host needs it: the endpoints have no authentication.
 *
 * <p>Threads: requests are served by two daemon threads of its own, never by the worker's threads; a slow
 * scraper cannot delay task handling. {@link #close()} stops the server at once and is idempotent.
 */
public final class ProbeServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ProbeServer.class);
    /** The Prometheus text exposition format that {@link PrometheusMeterRegistry#scrape()} writes. */
    static final String PROMETHEUS_TEXT = "text/plain; version=0.0.4; charset=utf-8";

    private final HttpServer server;
    private final ExecutorService threads;

    private ProbeServer(HttpServer server, ExecutorService threads) {
        this.server = server;
        this.threads = threads;
    }

    /**
     * Starts serving on {@code address} (port 0 picks a free port; see {@link #address()}).
     *
     * @param healthy what {@code /health} reports, e.g. {@code worker::isHealthy}; called per request
     * @throws HopperException when the address cannot be bound (port in use, unknown address)
     */
    public static ProbeServer start(InetSocketAddress address, PrometheusMeterRegistry registry,
            BooleanSupplier healthy) {
        requireNonNull(address, "address");
        requireNonNull(registry, "registry");
        requireNonNull(healthy, "healthy");
        HttpServer server;
        try {
            server = HttpServer.create(address, 16);
        } catch (IOException e) {
            throw new HopperException("cannot serve metrics on " + address.getHostString() + ":" + address.getPort()
                    + ": " + e.getMessage() + " (choose another --metrics-port or --metrics-bind)", e);
        }
        AtomicInteger n = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(2, r -> {
            Thread t = new Thread(r, "hopper-probe-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(threads);
        server.createContext("/", exchange -> {
            try (exchange) {
                if (!exchange.getRequestMethod().equals("GET") && !exchange.getRequestMethod().equals("HEAD")) {
                    exchange.getResponseHeaders().set("Allow", "GET, HEAD");
                    respond(exchange, 405, "text/plain; charset=utf-8", "method not allowed\n");
                    return;
                }
                switch (exchange.getRequestURI().getPath()) {
                    case "/metrics" -> respond(exchange, 200, PROMETHEUS_TEXT, registry.scrape());
                    case "/health" -> {
                        boolean up = healthy.getAsBoolean();
                        respond(exchange, up ? 200 : 503, "text/plain; charset=utf-8", up ? "UP\n" : "DOWN\n");
                    }
                    default -> respond(exchange, 404, "text/plain; charset=utf-8",
                            "not found; try /metrics or /health\n");
                }
            } catch (IOException | RuntimeException e) {
                // The client went away, or a meter failed to render: the request fails, the server keeps going.
                log.debug("probe request failed path={}: {}", exchange.getRequestURI().getPath(), e.toString());
            }
        });
        server.start();
        ProbeServer probe = new ProbeServer(server, threads);
        log.info("probe serving address={} paths=/metrics,/health", probe.address());
        return probe;
    }

    /** Where it listens, with the actual port when started on port 0. */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
        threads.shutdownNow();
    }

    private static void respond(HttpExchange exchange, int status, String contentType, String body)
            throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", contentType);
        boolean head = exchange.getRequestMethod().equals("HEAD");
        exchange.sendResponseHeaders(status, head ? -1 : bytes.length);
        if (!head) {
            try (OutputStream out = exchange.getResponseBody()) {
                out.write(bytes);
            }
        }
    }
}
