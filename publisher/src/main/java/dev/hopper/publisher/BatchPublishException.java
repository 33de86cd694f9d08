package dev.hopper.publisher;

import static java.util.Objects.requireNonNull;

/**
 * Some tasks of a batch were not confirmed. {@link #result()} says which were confirmed and which failed (with
 * their index in the batch and their own {@link PublishException}), so the caller can retry exactly the failed
 * ones. {@link #reason()} and {@link #mayHaveArrived()} are those of the first failure.
 */
public final class BatchPublishException extends PublishException {
    private static final long serialVersionUID = 1L;

    private final transient BatchResult result;

    BatchPublishException(BatchResult result) {
        super(first(result).error().reason(), first(result).error().mayHaveArrived(), describe(result),
                first(result).error());
        this.result = requireNonNull(result, "result");
    }

    public BatchResult result() {
        return result;
    }

    private static BatchResult.Failure first(BatchResult r) {
        if (r.failures().isEmpty()) {
            throw new IllegalArgumentException("a batch without failures is not an error");
        }
        return r.failures().get(0);
    }

    private static String describe(BatchResult r) {
        BatchResult.Failure f = first(r);
        return r.failures().size() + " of " + (r.failures().size() + r.receipts().size()) + " tasks were not "
                + "confirmed (first: index " + f.index() + ", messageId " + f.task().messageId() + ", "
                + f.error().reason() + ": " + f.error().getMessage() + "); " + r.receipts().size()
                + " were confirmed. See result() and retry the failures.";
    }
}
