package dev.hopper.ops.console;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.hopper.ops.cli.HopperCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Path;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

/** {@code hopper console}'s usage errors (exit 2, one line), without a broker; and the browser check. */
class ConsoleCommandTest {
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "no queue and no config      | console                                   | pass --config hopper.yml or --queue",
        "port out of range           | console --queue q --port 70000            | --port must be 0..65535",
        "short token                 | console --queue q --token abc             | --token must have at least 8",
        "refresh too short           | console --queue q --refresh 0s            | --refresh must be at least 1s",
        "bad queue name              | console --queue q.dead                    | --queue:",
        "index limit zero            | console --queue q --index-limit 0         | --index-limit must be 1..65535",
    })
    void usageErrorsExitTwoWithOneLine(String name, String args, String message) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = HopperCommand.execute(new PrintWriter(out), new PrintWriter(err), args.trim().split("\\s+"));
        assertThat(code).as(err.toString()).isEqualTo(2);
        assertThat(err.toString()).startsWith("hopper: ").contains(message);
        assertThat(err.toString().lines().count()).isEqualTo(1);
    }

    @Test
    void helpListsTheConsole() {
        StringWriter out = new StringWriter();
        HopperCommand.execute(new PrintWriter(out), new PrintWriter(new StringWriter()), "--help");
        assertThat(out.toString()).contains("console");
    }

    @Test
    void browserTestsFailWhenChromiumIsMissing() {
        assertThatThrownBy(() -> Chromium.start(Path.of("/nonexistent/chromium"), Chromium.DRIVER))
                .isInstanceOf(AssertionError.class)
                .hasMessageContaining("apt-get install -y chromium chromium-driver");
    }
}
