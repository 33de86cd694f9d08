package dev.hopper.ops.console;

import static java.util.Objects.requireNonNull;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import org.jspecify.annotations.Nullable;

/**
 * Decides whether a request may be served: pure, so every rule is unit-tested. The rules:
 *
 * <ul>
 *   <li>Host: when the console listens on a loopback address, the {@code Host} header must name a loopback
 *       address with the console's port; a page on another site that rebinds its DNS name to 127.0.0.1 is refused
 *       (it could otherwise read dead letters).
 *   <li>Mutating requests (POST): the {@code X-Hopper-Token} header must carry the console's token (compared in
 *       constant time); the body must be JSON ({@code Content-Type: application/json}, which a cross-site form cannot
 *       send without a CORS preflight the console never grants); an {@code Origin} header, when present, must be this
 *       console's own origin; {@code Sec-Fetch-Site}, when present, must be {@code same-origin} or {@code none}.
 * </ul>
 */
final class RequestGuard {
    /** The header a mutating request carries the token in. */
    static final String TOKEN_HEADER = "X-Hopper-Token";

    private final byte[] token;
    private final int port;
    private final boolean loopbackOnly;

    /**
     * @param port the port the console listens on
     * @param loopbackOnly true when it listens on a loopback address: then Host is checked
     */
    RequestGuard(String token, int port, boolean loopbackOnly) {
        requireNonNull(token, "token");
        if (token.length() < 8) {
            throw new IllegalArgumentException("the console token must have at least 8 characters");
        }
        this.token = token.getBytes(StandardCharsets.UTF_8);
        this.port = port;
        this.loopbackOnly = loopbackOnly;
    }

    /** The facts of one request the guard looks at (header values as sent, or null). */
    record Request(String method, @Nullable String host, @Nullable String origin, @Nullable String secFetchSite,
            @Nullable String contentType, @Nullable String token) {}

    /** Why a request is refused, with the HTTP status to answer. */
    record Refusal(int status, String message) {}

    Optional<Refusal> check(Request r) {
        if (loopbackOnly && !loopbackHost(r.host())) {
            return Optional.of(new Refusal(403, "Host '" + r.host() + "' is not this console; open it as "
                    + "http://127.0.0.1:" + port + "/"));
        }
        if (r.method().equals("GET") || r.method().equals("HEAD")) {
            return Optional.empty();
        }
        if (!r.method().equals("POST")) {
            return Optional.of(new Refusal(405, "method " + r.method() + " not allowed"));
        }
        if (!tokenMatches(r.token())) {
            return Optional.of(new Refusal(403, "a change needs the console's token in the " + TOKEN_HEADER
                    + " header (hopper console prints it at start)"));
        }
        if (r.origin() != null && !r.origin().equals("http://" + r.host())) {
            return Optional.of(new Refusal(403, "cross-origin request refused (Origin " + r.origin() + ")"));
        }
        if (r.secFetchSite() != null && !r.secFetchSite().equals("same-origin") && !r.secFetchSite().equals("none")) {
            return Optional.of(new Refusal(403, "cross-site request refused (Sec-Fetch-Site " + r.secFetchSite()
                    + ")"));
        }
        if (r.contentType() == null
                || !r.contentType().toLowerCase(Locale.ROOT).startsWith("application/json")) {
            return Optional.of(new Refusal(415, "a change must be sent as application/json"));
        }
        return Optional.empty();
    }

    /** True when {@code candidate} is the console's token (constant time). */
    boolean tokenMatches(@Nullable String candidate) {
        return candidate != null && MessageDigest.isEqual(token, candidate.getBytes(StandardCharsets.UTF_8));
    }

    private boolean loopbackHost(@Nullable String host) {
        if (host == null) {
            return false;
        }
        String h = host.toLowerCase(Locale.ROOT);
        for (String name : Set.of("127.0.0.1", "localhost", "[::1]")) {
            if (h.equals(name + ":" + port)) {
                return true;
            }
        }
        return false;
    }
}
