package dev.hopper.ops.console;

import static java.util.Objects.requireNonNull;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.Headers;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.hopper.topology.HopperException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The console's HTTP side on the JDK's {@link HttpServer}: the static page ({@code /}, {@code /console.js},
 * {@code /console.css}, shipped in the jar) and {@code /api/…} ({@link ConsoleApi}). Every request passes the
 * {@link RequestGuard} first; every answer carries a strict Content-Security-Policy (no inline script, nothing from
 * other origins), {@code nosniff}, {@code DENY} framing and {@code no-store}.
 *
 * <p>{@code GET /?token=T} with the right token sets the {@code hopper_console_token} cookie
 * ({@code SameSite=Strict}) and redirects to {@code /}, so the printed link logs the browser in; the page's script
 * sends the token back in the {@code X-Hopper-Token} header of each change (a cookie alone is never enough).
 *
 * <p>Limits: request bodies up to {@link #MAX_BODY} bytes (413 beyond), read with the server's own timeouts;
 * query strings up to 4 KiB. Threads: {@link #THREADS} daemon threads of its own. {@link #close()} stops at once.
 */
public final class ConsoleServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ConsoleServer.class);
    static final int MAX_BODY = 64 * 1024;
    static final int THREADS = 4;
    static final String COOKIE = "hopper_console_token";
    private static final String CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            + "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";
    private static final Map<String, String> STATIC = Map.of(
            "/", "index.html", "/index.html", "index.html", "/console.js", "console.js", "/console.css", "console.css");

    private final HttpServer server;
    private final ExecutorService threads;

    private ConsoleServer(HttpServer server, ExecutorService threads) {
        this.server = server;
        this.threads = threads;
    }

    /**
     * Starts serving on {@code address} (port 0 picks a free port; see {@link #address()}).
     *
     * @throws HopperException when the address cannot be bound
     */
    static ConsoleServer start(InetSocketAddress address, String token, ConsoleApi api, ObjectMapper mapper) {
        requireNonNull(api, "api");
        HttpServer server;
        try {
            server = HttpServer.create(address, 32);
        } catch (IOException e) {
            throw new HopperException("cannot serve the console on " + address.getHostString() + ":"
                    + address.getPort() + ": " + e.getMessage() + " (choose another --port or --bind)", e);
        }
        int port = server.getAddress().getPort();
        RequestGuard guard = new RequestGuard(token, port, server.getAddress().getAddress().isLoopbackAddress());
        Map<String, byte[]> files = new LinkedHashMap<>();
        for (String name : STATIC.values()) {
            files.computeIfAbsent(name, ConsoleServer::resource);
        }
        AtomicInteger n = new AtomicInteger();
        ExecutorService threads = Executors.newFixedThreadPool(THREADS, r -> {
            Thread t = new Thread(r, "hopper-console-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
        server.setExecutor(threads);
        server.createContext("/", exchange -> {
            try (exchange) {
                serve(exchange, guard, api, mapper, files);
            } catch (IOException | RuntimeException e) {
                log.debug("console request failed path={}: {}", exchange.getRequestURI().getPath(), e.toString());
            }
        });
        server.start();
        return new ConsoleServer(server, threads);
    }

    private static void serve(HttpExchange ex, RequestGuard guard, ConsoleApi api, ObjectMapper mapper,
            Map<String, byte[]> files) throws IOException {
        Headers h = ex.getRequestHeaders();
        String method = ex.getRequestMethod();
        Optional<RequestGuard.Refusal> refusal = guard.check(new RequestGuard.Request(method, h.getFirst("Host"),
                h.getFirst("Origin"), h.getFirst("Sec-Fetch-Site"), h.getFirst("Content-Type"),
                h.getFirst(RequestGuard.TOKEN_HEADER)));
        if (refusal.isPresent()) {
            json(ex, refusal.get().status(), mapper, Map.of("error", refusal.get().message()));
            return;
        }
        String path = ex.getRequestURI().getRawPath();
        String rawQuery = ex.getRequestURI().getRawQuery();
        if (rawQuery != null && rawQuery.length() > 4096) {
            json(ex, 414, mapper, Map.of("error", "query string too long"));
            return;
        }
        Map<String, String> query;
        String apiPath;
        try {
            query = query(rawQuery);
            apiPath = path.startsWith("/api/") ? decode(path.substring("/api/".length())) : "";
        } catch (IllegalArgumentException e) {
            json(ex, 400, mapper, Map.of("error", String.valueOf(e.getMessage())));
            return;
        }
        if (!path.startsWith("/api/")) {
            String file = STATIC.get(path);
            if (file == null || !(method.equals("GET") || method.equals("HEAD"))) {
                json(ex, 404, mapper, Map.of("error", "not found"));
                return;
            }
            if (path.equals("/") && query.containsKey("token")) {
                login(ex, guard, query.get("token"));
                return;
            }
            send(ex, 200, contentType(file), files.get(file));
            return;
        }
        byte[] body = new byte[0];
        if (method.equals("POST")) {
            Optional<byte[]> read = readBody(ex);
            if (read.isEmpty()) {
                json(ex, 413, mapper, Map.of("error", "request body larger than " + MAX_BODY + " bytes"));
                return;
            }
            body = read.get();
        }
        try {
            json(ex, 200, mapper, api.handle(method, apiPath, query, body));
        } catch (ConsoleApi.NotFound e) {
            json(ex, 404, mapper, Map.of("error", e.getMessage()));
        } catch (IllegalArgumentException e) {
            json(ex, 400, mapper, Map.of("error", String.valueOf(e.getMessage())));
        } catch (QueueLocks.Busy e) {
            json(ex, 409, mapper, Map.of("error", e.getMessage()));
        } catch (HopperException e) {
            log.warn("console request failed path={}: {}", apiPath, e.getMessage());
            json(ex, 502, mapper, Map.of("error", String.valueOf(e.getMessage())));
        }
    }

    /** The printed link: set the token cookie and drop the token from the address bar. */
    private static void login(HttpExchange ex, RequestGuard guard, String token) throws IOException {
        if (!guard.tokenMatches(token)) {
            send(ex, 403, "text/plain; charset=utf-8",
                    "wrong token; use the link hopper console printed\n".getBytes(StandardCharsets.UTF_8));
            return;
        }
        ex.getResponseHeaders().add("Set-Cookie", COOKIE + "=" + token + "; Path=/; SameSite=Strict");
        ex.getResponseHeaders().set("Location", "/");
        send(ex, 303, "text/plain; charset=utf-8", new byte[0]);
    }

    private static Optional<byte[]> readBody(HttpExchange ex) throws IOException {
        try (InputStream in = ex.getRequestBody()) {
            byte[] data = in.readNBytes(MAX_BODY + 1);
            return data.length > MAX_BODY ? Optional.empty() : Optional.of(data);
        }
    }

    private static void json(HttpExchange ex, int status, ObjectMapper mapper, Object body) throws IOException {
        send(ex, status, "application/json; charset=utf-8", mapper.writeValueAsBytes(body));
    }

    private static void send(HttpExchange ex, int status, String contentType, byte[] body) throws IOException {
        Headers out = ex.getResponseHeaders();
        out.set("Content-Type", contentType);
        out.set("Content-Security-Policy", CSP);
        out.set("X-Content-Type-Options", "nosniff");
        out.set("X-Frame-Options", "DENY");
        out.set("Referrer-Policy", "no-referrer");
        out.set("Cache-Control", "no-store");
        boolean head = ex.getRequestMethod().equals("HEAD");
        ex.sendResponseHeaders(status, head || body.length == 0 ? -1 : body.length);
        if (!head && body.length > 0) {
            try (OutputStream o = ex.getResponseBody()) {
                o.write(body);
            }
        }
    }

    private static Map<String, String> query(@org.jspecify.annotations.Nullable String raw) {
        Map<String, String> out = new LinkedHashMap<>();
        if (raw == null || raw.isEmpty()) {
            return out;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = decode(eq < 0 ? pair : pair.substring(0, eq));
            String v = eq < 0 ? "" : decode(pair.substring(eq + 1));
            out.putIfAbsent(k, v);
        }
        return out;
    }

    private static String decode(String s) {
        try {
            return URLDecoder.decode(s, StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("malformed percent-encoding in '" + s + "'");
        }
    }

    private static String contentType(String file) {
        if (file.endsWith(".js")) {
            return "text/javascript; charset=utf-8";
        }
        if (file.endsWith(".css")) {
            return "text/css; charset=utf-8";
        }
        return "text/html; charset=utf-8";
    }

    private static byte[] resource(String name) {
        try (InputStream in = ConsoleServer.class.getResourceAsStream(name)) {
            if (in == null) {
                throw new IllegalStateException("the console's " + name + " is missing from the jar");
            }
            return in.readAllBytes();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
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
}
