package dev.hopper.ops.dlq;

import java.util.List;
import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * What a replay did.
 *
 * @param scan the pass over the dead queue ({@code matched} = dead letters selected)
 * @param replayed dead letters whose copy the broker confirmed and that were then removed from the dead queue
 * @param failed selected dead letters that stayed in the dead queue because their copy was not confirmed
 * @param firstFailure why the first failed one failed, or null
 * @param byDestination replayed (or, in a dry run, selected) count per destination work queue
 * @param planned in a dry run, the selected dead letters and their destination, in queue order; else empty
 */
public record ReplayReport(ScanReport scan, long replayed, long failed, @Nullable String firstFailure,
        Map<String, Long> byDestination, List<Planned> planned) {

    public ReplayReport {
        byDestination = Map.copyOf(byDestination);
        planned = List.copyOf(planned);
    }

    /** One dead letter a dry run would replay, and where to. */
    public record Planned(DeadLetter letter, String destination) {}

    public boolean ok() {
        return failed == 0;
    }
}
