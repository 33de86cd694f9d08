package dev.hopper.ops.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.stream.Stream;
import org.jspecify.annotations.Nullable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

class RequestGuardTest {
    static final String TOKEN = "s3cret-token";
    final RequestGuard loopback = new RequestGuard(TOKEN, 8700, true);

    static Stream<Arguments> cases() {
        String host = "127.0.0.1:8700";
        String json = "application/json";
        return Stream.of(
                Arguments.of("GET on loopback host", "GET", host, null, null, null, null, 0),
                Arguments.of("GET as localhost", "GET", "localhost:8700", null, null, null, null, 0),
                Arguments.of("GET with a rebound DNS name", "GET", "evil.example:8700", null, null, null, null, 403),
                Arguments.of("GET on another port", "GET", "127.0.0.1:9999", null, null, null, null, 403),
                Arguments.of("GET without Host", "GET", null, null, null, null, null, 403),
                Arguments.of("POST with token, same origin", "POST", host, "http://" + host, "same-origin", json, TOKEN, 0),
                Arguments.of("POST with token, no Origin (curl)", "POST", host, null, null, json, TOKEN, 0),
                Arguments.of("POST without token", "POST", host, "http://" + host, "same-origin", json, null, 403),
                Arguments.of("POST with a wrong token", "POST", host, null, null, json, "s3cret-tokex", 403),
                Arguments.of("POST with a token prefix", "POST", host, null, null, json, "s3cret", 403),
                Arguments.of("POST from another origin", "POST", host, "http://evil.example", null, json, TOKEN, 403),
                Arguments.of("POST cross-site", "POST", host, null, "cross-site", json, TOKEN, 403),
                Arguments.of("POST as a form", "POST", host, null, null, "application/x-www-form-urlencoded", TOKEN,
                        415),
                Arguments.of("POST without a content type", "POST", host, null, null, null, TOKEN, 415),
                Arguments.of("DELETE", "DELETE", host, null, null, json, TOKEN, 405));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void decides(String name, String method, @Nullable String host, @Nullable String origin, @Nullable String site,
            @Nullable String contentType, @Nullable String token, int expected) {
        var refusal = loopback.check(new RequestGuard.Request(method, host, origin, site, contentType, token));
        assertThat(refusal.map(RequestGuard.Refusal::status).orElse(0)).isEqualTo(expected);
    }

    @Test
    void aConsoleBoundToAllAddressesAcceptsAnyHostButStillNeedsTheToken() {
        RequestGuard open = new RequestGuard(TOKEN, 8700, false);
        assertThat(open.check(new RequestGuard.Request("GET", "ops.example:8700", null, null, null, null))).isEmpty();
        assertThat(open.check(new RequestGuard.Request("POST", "ops.example:8700", null, null, "application/json",
                null))).hasValueSatisfying(r -> assertThat(r.status()).isEqualTo(403));
    }

    @Test
    void refusesShortTokens() {
        assertThatThrownBy(() -> new RequestGuard("short", 8700, true)).isInstanceOf(IllegalArgumentException.class);
    }
}
