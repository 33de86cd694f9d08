package dev.hopper.ops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class ProgressLineTest {
    final AtomicLong now = new AtomicLong(1_000_000_000L);
    final StringWriter err = new StringWriter();

    @Test
    void withoutATerminalItPrintsAPlainLineEveryFiveSeconds() {
        ProgressLine line = new ProgressLine(new PrintWriter(err), false, now::get);
        line.update("published 10 of 60000");
        now.addAndGet(ProgressLine.PLAIN_EVERY.toNanos());
        line.update("published 20000 of 60000");
        now.addAndGet(1_000_000_000L);
        line.update("published 25000 of 60000"); // too soon
        now.addAndGet(ProgressLine.PLAIN_EVERY.toNanos());
        line.update("published 50000 of 60000");
        line.close();
        assertThat(err.toString()).isEqualTo("published 20000 of 60000" + System.lineSeparator()
                + "published 50000 of 60000" + System.lineSeparator());
    }

    @Test
    void onATerminalItRewritesOneLineAndEndsIt() {
        ProgressLine line = new ProgressLine(new PrintWriter(err), true, now::get);
        now.addAndGet(ProgressLine.TTY_EVERY.toNanos());
        line.update("a");
        now.addAndGet(ProgressLine.TTY_EVERY.toNanos());
        line.update("b");
        line.close();
        assertThat(err.toString()).isEqualTo("\ra   \rb   " + System.lineSeparator());
    }

    @Test
    void quickWorkPrintsNothing() {
        ProgressLine line = new ProgressLine(new PrintWriter(err), false, now::get);
        line.update("done already");
        line.close();
        assertThat(err.toString()).isEmpty();
    }

    @Test
    void pollingShowsTheCounterUntilClosed() throws Exception {
        StringWriter out = new StringWriter();
        AtomicLong counter = new AtomicLong();
        // A clock that jumps a whole interval per reading, so every poll prints.
        AtomicLong clock = new AtomicLong();
        ProgressLine line = new ProgressLine(new PrintWriter(out), false,
                () -> clock.addAndGet(ProgressLine.PLAIN_EVERY.toNanos()));
        line.polling(() -> "n=" + counter.incrementAndGet());
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> out.toString().lines().count() >= 2);
        line.close();
        String after = out.toString();
        // A stopped ticker prints nothing more: the output must stay as it was for three intervals.
        org.awaitility.Awaitility.await().during(ProgressLine.TTY_EVERY.multipliedBy(3))
                .atMost(ProgressLine.TTY_EVERY.multipliedBy(3).plusSeconds(5))
                .until(() -> out.toString().equals(after));
        assertThat(after).startsWith("n=");
    }
}
