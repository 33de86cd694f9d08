package dev.hopper.topology;

import java.util.List;
import java.util.stream.Collectors;

/**
 * An existing broker object differs from what the configuration needs. Hopper never deletes or changes an
 * existing object by itself: the operator decides (delete the object, or change hopper.yml).
 */
public final class TopologyMismatchException extends HopperException {
    private static final long serialVersionUID = 1L;
    private final transient List<VerificationReport.Problem> problems;

    public TopologyMismatchException(List<VerificationReport.Problem> problems) {
        super("the broker's topology differs from the configuration; nothing was changed or deleted:\n"
                + problems.stream().map(p -> "  " + p.describe()).collect(Collectors.joining("\n"))
                + "\nDelete the differing objects (after draining them) or change hopper.yml to match.");
        this.problems = List.copyOf(problems);
    }

    public List<VerificationReport.Problem> problems() {
        return problems;
    }
}
