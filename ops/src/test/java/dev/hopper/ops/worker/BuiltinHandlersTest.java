package dev.hopper.ops.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.consumer.PermanentTaskException;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class BuiltinHandlersTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    private static JsonNode json(String s) throws Exception {
        return JSON.readTree(s);
    }

    @Test
    void failFailsTheFirstNAttemptsThenSucceeds() throws Exception {
        JsonNode p = json("{\"failures\": 2}");
        assertThatThrownBy(() -> BuiltinHandlers.fail(p, 0)).isInstanceOf(DeliberateFailureException.class)
                .hasMessageContaining("attempt 1 of the first 2");
        assertThatThrownBy(() -> BuiltinHandlers.fail(p, 1)).isInstanceOf(DeliberateFailureException.class);
        assertThatCode(() -> BuiltinHandlers.fail(p, 2)).doesNotThrowAnyException();
        assertThatCode(() -> BuiltinHandlers.fail(json("{}"), 0)).doesNotThrowAnyException();
    }

    @Test
    void failWithPermanentIsAPermanentFailure() throws Exception {
        assertThatThrownBy(() -> BuiltinHandlers.fail(json("{\"permanent\": true, \"failures\": 0}"), 5))
                .isInstanceOf(PermanentTaskException.class);
    }

    @Test
    void badNumbersArePermanentFailures() throws Exception {
        assertThatThrownBy(() -> BuiltinHandlers.fail(json("{\"failures\": -1}"), 0))
                .isInstanceOf(PermanentTaskException.class).hasMessageContaining("\"failures\"");
        assertThatThrownBy(() -> BuiltinHandlers.sleep(json("{\"ms\": \"soon\"}")))
                .isInstanceOf(PermanentTaskException.class).hasMessageContaining("\"ms\"");
    }

    @Test
    void sleepSleepsAndIsInterruptible() throws Exception {
        assertThatCode(() -> BuiltinHandlers.sleep(json("{\"ms\": 20}"))).doesNotThrowAnyException();

        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                BuiltinHandlers.sleep(json("{\"ms\": 60000}"));
                outcome.complete(null);
            } catch (Throwable e) {
                outcome.complete(e);
            }
        });
        t.start();
        t.interrupt();
        assertThat(outcome.get(10, TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
    }

    @Test
    void namedKnowsTheThreeBuiltIns() {
        assertThat(BuiltinHandlers.NAMES).containsExactly("noop", "sleep", "fail");
        BuiltinHandlers.NAMES.forEach(n -> assertThat(BuiltinHandlers.named(n)).isNotNull());
        assertThatThrownBy(() -> BuiltinHandlers.named("explode")).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("noop, sleep, fail");
    }
}
