package dev.hopper.publisher;

import static java.util.Objects.requireNonNull;

import java.util.List;

/**
 * The outcome of {@link TaskPublisher#publishAll}: which tasks the broker confirmed and which failed. Together
 * they cover every task of the batch exactly once. Immutable.
 *
 * @param receipts confirmed tasks, in batch order
 * @param failures failed tasks, in batch order
 */
public record BatchResult(List<PublishReceipt> receipts, List<Failure> failures) {

    /**
     * One task that was not confirmed.
     *
     * @param index its position in the list given to {@code publishAll}
     * @param task the task, so the caller can retry it
     * @param error why; {@link PublishException#mayHaveArrived()} says whether it could be on the broker anyway
     */
    public record Failure(int index, Task task, PublishException error) {
        public Failure {
            requireNonNull(task, "task");
            requireNonNull(error, "error");
        }
    }

    public BatchResult {
        receipts = List.copyOf(receipts);
        failures = List.copyOf(failures);
    }

    public boolean allConfirmed() {
        return failures.isEmpty();
    }
}
