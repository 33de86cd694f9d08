package dev.hopper.ops.publish;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.ops.cli.HopperCommand;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Usage errors of the timing options of {@code hopper publish}: exit 2, one line, nothing opened. */
class PublishCommandTest {
    /** Nothing listens here: a test that got past the checks would fail with exit 1, not 2. */
    private static final String DEAD_BROKER = "amqp://guest:guest@127.0.0.1:1/";

    static Stream<Arguments> usageErrors() {
        return Stream.of(
                Arguments.of("--delay and --at", List.of("--delay", "30s", "--at", "2026-12-24T18:00:00Z"),
                        "give --delay or --at, not both"),
                Arguments.of("malformed --delay", List.of("--delay", "soon"), "not a duration like"),
                Arguments.of("malformed --at", List.of("--at", "tomorrow"),
                        "'tomorrow' is not an instant like 2026-12-24T18:00:00Z"),
                Arguments.of("--coalesce without --key", List.of("--coalesce", "--debounce", "1s", "--max-delay", "2s"),
                        "--coalesce needs --key"),
                Arguments.of("--coalesce without windows", List.of("--key", "k", "--coalesce"),
                        "--coalesce needs --debounce DURATION and --max-delay DURATION"),
                Arguments.of("--debounce without --coalesce", List.of("--key", "k", "--debounce", "1s"),
                        "--debounce and --max-delay need --coalesce"),
                Arguments.of("--coalesce with --delay", List.of("--key", "k", "--coalesce", "--debounce", "1s",
                        "--max-delay", "2s", "--delay", "5s"), "--coalesce takes no --delay or --at"),
                Arguments.of("--coalesce without Redis", List.of("--key", "k", "--coalesce", "--debounce", "1s",
                        "--max-delay", "2s"), "pass --redis"),
                Arguments.of("max-delay below debounce", List.of("--redis-for-test", "--key", "k", "--coalesce",
                        "--debounce", "5s", "--max-delay", "2s"), "must be at least the debounce"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("usageErrors")
    void badTimingOptionsAreOneLineUsageErrors(String name, List<String> options, String mentions) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        List<String> args = new java.util.ArrayList<>(List.of("--uri", DEAD_BROKER));
        List<String> rest = new java.util.ArrayList<>(options);
        if (rest.remove("--redis-for-test")) {
            args.addAll(List.of("--redis", "redis://127.0.0.1:1"));
        } else {
            args.addAll(List.of("--redis", ""));
        }
        args.addAll(List.of("publish", "--queue", "q", "--type", "t", "--payload", "1"));
        args.addAll(rest);

        int code = HopperCommand.execute(new PrintWriter(out), new PrintWriter(err), args.toArray(new String[0]));

        assertThat(code).as(err.toString()).isEqualTo(2);
        assertThat(err.toString().split("\\R")).hasSize(1);
        assertThat(err.toString()).startsWith("hopper: ").contains(mentions);
    }
}
