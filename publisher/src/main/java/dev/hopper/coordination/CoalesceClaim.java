package dev.hopper.coordination;

import static java.util.Objects.requireNonNull;

import java.time.Instant;

/**
 * The answer of {@link CoalescingStore#claim}: what a worker does with a coalesced task it received. Dispatch with
 * {@code instanceof}.
 */
public sealed interface CoalesceClaim
        permits CoalesceClaim.Claimed, CoalesceClaim.NotDue, CoalesceClaim.NothingPending, CoalesceClaim.Forgotten {

    /**
     * The run is ours: run the handler with {@code payload}. The store recorded the run's start and cleared the
     * pending run, so a publish from now on makes a new one.
     *
     * @param payload the latest payload published for the key (not copied: treat as read-only)
     * @param absorbed how many publishes the run absorbed besides the one that created it
     * @param again true when this message had already claimed the run (it was redelivered after a crash, or
     *     published twice): the same payload and count as the first claim
     */
    record Claimed(byte[] payload, long absorbed, boolean again) implements CoalesceClaim {
        public Claimed {
            requireNonNull(payload, "payload");
        }
    }

    /** The run's due time moved later: hop the task again until {@code due}. */
    record NotDue(Instant due) implements CoalesceClaim {
        public NotDue {
            requireNonNull(due, "due");
        }
    }

    /**
     * This message carries no run: another message carries the key's pending run, or a run started after this
     * message was published already covered it. Ack it without running.
     */
    record NothingPending() implements CoalesceClaim {}

    /**
     * The store has no state for the key any more (it expired, or the store lost it): nothing says whether this
     * run happened. Run the message's own payload, so a trigger is never lost.
     */
    record Forgotten() implements CoalesceClaim {}
}
