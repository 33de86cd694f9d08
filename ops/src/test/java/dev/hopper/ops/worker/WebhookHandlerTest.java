package dev.hopper.ops.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.hopper.consumer.PermanentTaskException;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.CountDownLatch;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

@org.junit.jupiter.api.Timeout(60)
class WebhookHandlerTest {
    private static final byte[] PAYLOAD = "{\"order\":17}".getBytes(StandardCharsets.UTF_8);
    private static final TaskInfo TASK = new TaskInfo("hooks", "id-9", "order.paid", "order:17", 3L, 1, 12L);

    private HttpServer server;
    private final AtomicInteger status = new AtomicInteger(204);
    private final List<byte[]> bodies = new CopyOnWriteArrayList<>();
    private final Map<String, String> headers = new ConcurrentHashMap<>();

    @BeforeEach
    void start() throws IOException {
        server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        server.createContext("/hook", ex -> {
            bodies.add(ex.getRequestBody().readAllBytes());
            ex.getRequestHeaders().forEach((k, v) -> headers.put(k.toLowerCase(java.util.Locale.ROOT), v.get(0)));
            headers.put("method", ex.getRequestMethod());
            int s = status.get();
            byte[] answer = s == 204 ? new byte[0] : ("server says " + s + "\n  details").getBytes(StandardCharsets.UTF_8);
            ex.sendResponseHeaders(s, answer.length == 0 ? -1 : answer.length);
            if (answer.length > 0) {
                ex.getResponseBody().write(answer);
            }
            ex.close();
        });
        server.start();
    }

    @AfterEach
    void stop() {
        server.stop(0);
    }

    private URI url() {
        return URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/hook?token=secret");
    }

    @Test
    void a2xxAnswerIsSuccessAndThePayloadAndHeadersArrive() throws Exception {
        new WebhookHandler(url(), Duration.ofSeconds(5)).post(PAYLOAD, TASK);
        assertThat(bodies).singleElement().isEqualTo(PAYLOAD);
        assertThat(headers).containsEntry("method", "POST")
                .containsEntry("content-type", "application/json")
                .containsEntry("x-hopper-message-id", "id-9")
                .containsEntry("x-hopper-type", "order.paid")
                .containsEntry("x-hopper-queue", "hooks")
                .containsEntry("x-hopper-attempt", "1")
                .containsEntry("x-hopper-key", "order:17")
                .containsEntry("x-hopper-revision", "3")
                .containsEntry("x-hopper-fencing-token", "12");
    }

    @Test
    void optionalHeadersAreLeftOutWhenTheTaskHasNoKey() throws Exception {
        new WebhookHandler(url(), Duration.ofSeconds(5)).post(PAYLOAD, new TaskInfo("hooks", "id-1", "t", null, null,
                0, null));
        assertThat(headers).containsEntry("x-hopper-attempt", "0")
                .doesNotContainKeys("x-hopper-key", "x-hopper-revision", "x-hopper-fencing-token");
    }

    @Test
    void a500IsARetryableFailureNamingTheStatusButNotTheQuery() {
        status.set(500);
        assertThatThrownBy(() -> new WebhookHandler(url(), Duration.ofSeconds(5)).post(PAYLOAD, TASK))
                .isInstanceOf(WebhookException.class)
                .isNotInstanceOf(PermanentTaskException.class)
                .hasMessageContaining("answered HTTP 500: server says 500 details")
                .hasMessageContaining("http://127.0.0.1:" + server.getAddress().getPort() + "/hook")
                .satisfies(e -> assertThat(e.getMessage()).doesNotContain("secret"));
    }

    @Test
    void a4xxIsRetriedToo() {
        status.set(404);
        assertThatThrownBy(() -> new WebhookHandler(url(), Duration.ofSeconds(5)).post(PAYLOAD, TASK))
                .isInstanceOf(WebhookException.class)
                .hasMessageContaining("HTTP 404");
    }

    @Test
    void aRefusedConnectionIsARetryableFailure() throws IOException {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        URI nobody = URI.create("http://127.0.0.1:" + port + "/hook");
        assertThatThrownBy(() -> new WebhookHandler(nobody, Duration.ofSeconds(5)).post(PAYLOAD, TASK))
                .isInstanceOf(WebhookException.class)
                .hasMessageContaining("POST http://127.0.0.1:" + port + "/hook failed: ConnectException");
    }

    @Test
    void onlyAbsoluteHttpUrlsAreAccepted() {
        assertThatThrownBy(() -> new WebhookHandler(URI.create("ftp://example.com/x"), Duration.ofSeconds(5)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("http://");
        assertThatThrownBy(() -> new WebhookHandler(URI.create("/relative"), Duration.ofSeconds(5)))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void shownUrlDropsUserInfoAndQuery() {
        assertThat(WebhookHandler.shown(URI.create("https://user:pw@example.com:8443/a/b?sig=x")))
                .isEqualTo("https://example.com:8443/a/b");
    }

    @Test
    void aServerThatStallsTheBodyFailsTheAttemptWithinTheTimeout() throws Exception {
        // Finding 7: headers, then 10 bytes of a 1,000,000-byte body, then nothing: the handler hung for good.
        CountDownLatch hold = new CountDownLatch(1);
        server.createContext("/stall", ex -> {
            ex.getRequestBody().readAllBytes();
            ex.sendResponseHeaders(200, 1_000_000);
            ex.getResponseBody().write("0123456789".getBytes(StandardCharsets.UTF_8));
            ex.getResponseBody().flush();
            try {
                hold.await(60, java.util.concurrent.TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            ex.close();
        });
        URI stall = URI.create("http://127.0.0.1:" + server.getAddress().getPort() + "/stall");
        try {
            org.junit.jupiter.api.Assertions.assertTimeoutPreemptively(Duration.ofSeconds(30), () ->
                    assertThatThrownBy(() -> new WebhookHandler(stall, Duration.ofSeconds(1)).post(PAYLOAD, TASK))
                            .isInstanceOf(WebhookException.class)
                            .hasMessageContaining("no complete answer (headers and body) within 1s"));
        } finally {
            hold.countDown();
        }
    }
}
