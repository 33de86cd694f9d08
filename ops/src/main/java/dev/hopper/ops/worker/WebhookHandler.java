package dev.hopper.ops.worker;

import static java.util.Objects.requireNonNull;

import dev.hopper.consumer.PermanentTaskException;
import dev.hopper.consumer.TaskContext;
import dev.hopper.consumer.TaskHandler;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.jspecify.annotations.Nullable;

/**
 * {@code hopper worker --webhook URL}: POSTs each task's payload (its JSON body as it arrived) to {@code URL} with
 * {@code Content-Type: application/json} and the headers {@code X-Hopper-Message-Id}, {@code X-Hopper-Type},
 * {@code X-Hopper-Queue}, {@code X-Hopper-Attempt} (runs before this one: 0 on the first), and, when the task has
 * them, {@code X-Hopper-Key}, {@code X-Hopper-Revision} and {@code X-Hopper-Fencing-Token}. The receiver should
 * deduplicate on the message id: delivery is at least once.
 *
 * <p>Any 2xx answer is success. Everything else is a retryable failure under the queue's policy (for a queue
 * with no config of its own, "retry for a day"): connection errors, timeouts and every non-2xx status, 4xx
 * included. Retrying a 4xx is deliberate, as the big webhook senders do: a 401, 403 or 404 is usually an endpoint
 * being deployed or misconfigured, which gets fixed within the retry window; a task that really can never
 * succeed ends in the dead-letter queue when the policy is exhausted, from where it can be replayed. The failure
 * message names the URL (without user info or query, which may hold secrets), the status and the first 300
 * characters of the answer's body.
 *
 * <p>Follow-ups: with follow-ups enabled ({@link #WebhookHandler(URI, Duration, FollowUpLines)}) a 2xx JSON answer
 * may ask for follow-ups and hand a result to its parent's join ({@link WebhookReply} has the shape); a malformed
 * request fails the task permanently and nothing is published.
 *
 * <p>Redirects are not followed (a POST must not silently change target). Thread-safe: one instance and one
 * {@link HttpClient} serve all handler threads; an interrupt (handler timeout) abandons the request.
 */
final class WebhookHandler implements TaskHandler<byte[]> {
    private static final int BODY_SNIPPET_CHARS = 300;

    private final URI url;
    private final String shownUrl;
    private final Duration requestTimeout;
    private final HttpClient client;
    private final @Nullable FollowUpLines followUps;
    private final ObjectMapper replyMapper = dev.hopper.topology.TaskJson.newMapper(WebhookReply.MAX_REPLY_BYTES);

    /**
     * @param requestTimeout the longest a request may take, connection included
     * @throws IllegalArgumentException unless {@code url} is an absolute http or https URL
     */
    WebhookHandler(URI url, Duration requestTimeout) {
        this(url, requestTimeout, null);
    }

    /** @param followUps reads follow-ups from 2xx answers; null: answers are not read for follow-ups */
    WebhookHandler(URI url, Duration requestTimeout, @Nullable FollowUpLines followUps) {
        this.followUps = followUps;
        this.url = requireNonNull(url, "url");
        String scheme = url.getScheme();
        if (!("http".equalsIgnoreCase(scheme) || "https".equalsIgnoreCase(scheme)) || url.getHost() == null) {
            throw new IllegalArgumentException("--webhook needs an absolute http:// or https:// URL, was " + url);
        }
        this.shownUrl = shown(url);
        this.requestTimeout = requireNonNull(requestTimeout, "requestTimeout");
        this.client = HttpClient.newBuilder()
                .connectTimeout(requestTimeout.compareTo(Duration.ofSeconds(10)) < 0 ? requestTimeout
                        : Duration.ofSeconds(10))
                .followRedirects(HttpClient.Redirect.NEVER)
                .build();
    }

    @Override
    public void handle(byte[] payload, TaskContext context) throws Exception {
        post(payload, TaskInfo.of(context)).handTo(context);
    }

    /**
     * POSTs one task.
     *
     * @throws WebhookException on any failure to get a 2xx answer
     * @throws PermanentTaskException when the task's key cannot be sent as an HTTP header value
     */
    FollowUps post(byte[] payload, TaskInfo task) throws InterruptedException {
        HttpRequest request;
        try {
            HttpRequest.Builder b = HttpRequest.newBuilder(url)
                    .timeout(requestTimeout)
                    .header("Content-Type", "application/json")
                    .header("X-Hopper-Message-Id", task.messageId())
                    .header("X-Hopper-Type", task.type())
                    .header("X-Hopper-Queue", task.queue())
                    .header("X-Hopper-Attempt", Integer.toString(task.attempt()))
                    .POST(HttpRequest.BodyPublishers.ofByteArray(payload));
            if (task.key() != null) {
                b.header("X-Hopper-Key", task.key());
            }
            if (task.revision() != null) {
                b.header("X-Hopper-Revision", task.revision().toString());
            }
            if (task.fencingToken() != null) {
                b.header("X-Hopper-Fencing-Token", task.fencingToken().toString());
            }
            request = b.build();
        } catch (IllegalArgumentException e) {
            throw new PermanentTaskException("the task cannot be sent as an HTTP request: " + e.getMessage(), e);
        }
        HttpResponse<InputStream> response;
        try {
            response = client.send(request, HttpResponse.BodyHandlers.ofInputStream());
        } catch (HttpTimeoutException e) {
            throw new WebhookException("POST " + shownUrl + " got no answer within "
                    + dev.hopper.topology.DurationText.format(requestTimeout), e);
        } catch (IOException e) {
            throw new WebhookException("POST " + shownUrl + " failed: " + describe(e), e);
        }
        int status = response.statusCode();
        if (status >= 200 && status < 300) {
            return followUps(response);
        }
        String snippet = snippet(response.body());
        throw new WebhookException("POST " + shownUrl + " answered HTTP " + status
                + (snippet.isEmpty() ? "" : ": " + snippet));
    }

    /** The follow-ups a 2xx answer asks for; none unless follow-ups are enabled and the answer is JSON. */
    private FollowUps followUps(HttpResponse<InputStream> response) {
        FollowUpLines lines = followUps;
        String contentType = response.headers().firstValue("Content-Type").orElse(null);
        try (InputStream body = response.body()) {
            if (lines == null || !WebhookReply.isJson(contentType)) {
                return FollowUps.NONE;
            }
            byte[] bytes = body.readNBytes(WebhookReply.MAX_REPLY_BYTES + 1);
            if (bytes.length > WebhookReply.MAX_REPLY_BYTES) {
                throw new BadFollowUpException("POST " + shownUrl + " answered with a JSON body over "
                        + WebhookReply.MAX_REPLY_BYTES + " bytes, too large to read for follow-ups; nothing was "
                        + "published");
            }
            return WebhookReply.parse(bytes, contentType, lines, replyMapper);
        } catch (IOException e) {
            throw new WebhookException("POST " + shownUrl + " answered 2xx but its body could not be read: "
                    + describe(e), e);
        }
    }

    /** The URL without user info and query, which may carry credentials. */
    static String shown(URI url) {
        String port = url.getPort() < 0 ? "" : ":" + url.getPort();
        String path = url.getRawPath() == null ? "" : url.getRawPath();
        return url.getScheme() + "://" + url.getHost() + port + path;
    }

    private static String snippet(InputStream body) {
        try (body) {
            byte[] head = body.readNBytes(BODY_SNIPPET_CHARS * 4);
            String s = new String(head, StandardCharsets.UTF_8).replaceAll("\\s+", " ").strip();
            return s.length() > BODY_SNIPPET_CHARS ? s.substring(0, BODY_SNIPPET_CHARS) + "…" : s;
        } catch (IOException e) {
            return "";
        }
    }

    /** The failure's class and the first message found down its cause chain (the JDK's are often empty). */
    private static String describe(Throwable e) {
        String name = e.getClass().getSimpleName();
        for (Throwable t = e; t != null; t = t.getCause() == t ? null : t.getCause()) {
            String m = t.getMessage();
            if (m != null && !m.isBlank()) {
                return name + ": " + m;
            }
        }
        return name;
    }
}
