package dev.hopper.ops.dlq;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.ops.cli.ProgressLine;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

class TtyProgressTest {
    final AtomicLong now = new AtomicLong(1_000_000_000L);
    final StringWriter err = new StringWriter();
    final TtyProgress progress = new TtyProgress(new ProgressLine(new PrintWriter(err), true, now::get));

    @Test
    void rewritesOneLineAtMostFiveTimesASecondForLargeReplays() {
        progress.update(1, 10, 5000);
        assertThat(err.toString()).isEmpty(); // too soon after the start
        now.addAndGet(250_000_000L);
        progress.update(2, 10, 5000);
        now.addAndGet(100_000_000L);
        progress.update(3, 10, 5000); // within 200 ms of the last line: skipped
        now.addAndGet(200_000_000L);
        progress.update(4, 10, 5000);
        progress.finish();
        assertThat(err.toString()).isEqualTo("\rreplayed 2 of 10 selected (5000 dead letters)   "
                + "\rreplayed 4 of 10 selected (5000 dead letters)   " + System.lineSeparator());
    }

    @Test
    void smallReplaysPrintNothing() {
        now.addAndGet(1_000_000_000L);
        progress.update(5, 5, TtyProgress.LARGE - 1);
        progress.finish();
        assertThat(err.toString()).isEmpty();
    }
}
