package dev.hopper.consumer;

import static java.util.Objects.requireNonNull;

/**
 * One run of a coalesced key, as its claim handed it out (design.md, "Coalescing"): the payload the handler gets,
 * the same payload as JSON for copies of the task (a failed run retries with what it claimed), and how many
 * publishes the run absorbed besides the one that created it. Immutable; the arrays are not copied.
 *
 * @param payload the payload as the handler's payload type
 * @param body the payload as JSON, for retry and dead-letter copies
 * @param absorbed publishes absorbed besides the one that created the run ({@code ctx.coalesced()})
 */
record CoalescedRun(Object payload, byte[] body, long absorbed) {
    CoalescedRun {
        requireNonNull(payload, "payload");
        requireNonNull(body, "body");
        if (absorbed < 0) {
            throw new IllegalArgumentException("absorbed must be >= 0, was " + absorbed);
        }
    }
}
