package dev.hopper.topology;

import java.util.List;
import org.jspecify.annotations.Nullable;

/**
 * What {@link Topology#verify} found: one {@link Problem} per missing object and per differing argument.
 *
 * @param checked how many exchanges and queues were checked
 */
public record VerificationReport(int checked, List<Problem> problems) {
    public VerificationReport {
        problems = List.copyOf(problems);
    }

    public boolean ok() {
        return problems.isEmpty();
    }

    /**
     * One difference.
     *
     * @param object e.g. {@code queue 'uploads.retry.30s'}
     * @param argument the differing argument ({@code x-message-ttl}, {@code x-queue-type}, {@code durable}, …),
     *     or null when the object is missing
     * @param expected what the configuration needs; null means "absent"
     * @param actual what the broker has; null means "absent"
     */
    public record Problem(String object, @Nullable String argument, @Nullable String expected,
            @Nullable String actual) {
        public boolean missing() {
            return argument == null;
        }

        public String describe() {
            if (argument == null) {
                return object + " is missing";
            }
            return object + ": " + argument + " is " + (actual == null ? "not set" : actual) + ", expected "
                    + (expected == null ? "not set" : expected);
        }
    }
}
