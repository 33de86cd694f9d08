package dev.hopper.topology;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.TreeSet;

/**
 * How a task that must wait goes through a queue's delay tiers (design.md, "Delayed tasks"): each hop takes the
 * largest tier that fits in the time left, so any wait is a few trips through fixed-TTL queues (a 3 h wait over
 * {@code [5s, 30s, 5m, 1h]} is three hops through {@code 1h}). Pure functions; thread-safe.
 *
 * <p><b>Slack of one smallest tier.</b> A hop may end up to one smallest tier after the task's time: "fits" means
 * {@code tier <= left + smallest tier}. Without that slack, the few milliseconds each hop spends in the broker
 * would make a tier that fit exactly no longer fit on arrival, and a 3 h wait would crumble into 1h, 1h, then
 * eleven 5m hops, nine 30s hops and so on. The guarantee stays the one design.md gives: never before the time,
 * at most one smallest tier (plus broker latency) after it. When less than the smallest tier is left, the smallest
 * tier is taken (it cannot be shorter).
 *
 * <p><b>Hop cap.</b> A worker dead-letters a task that is still early after {@link #MAX_HOPS} hops (reason
 * {@code hop-limit}), so a hostile or far-future not-before cannot make it hop forever; a publisher refuses a
 * delay that needs more than {@link #MAX_PLANNED_HOPS}, leaving room for a hop or two added by lateness.
 */
public final class DelayRoute {
    /** Hops after which a task that is still early is dead-lettered ({@link DeadReason#HOP_LIMIT}). */
    public static final int MAX_HOPS = 1000;
    /** The most hops a publisher accepts for a delay: {@link #MAX_HOPS} minus a margin for late arrivals. */
    public static final int MAX_PLANNED_HOPS = MAX_HOPS - 10;

    private DelayRoute() {}

    /**
     * The tier for the next hop of a task with {@code left} still to wait: the largest tier that is at most
     * {@code left} plus the smallest tier, or the smallest tier.
     *
     * @throws IllegalArgumentException when {@code tiers} is empty or {@code left} is not positive (a task with
     *     nothing left to wait runs; it does not hop)
     */
    public static DelayTier nextHop(Collection<DelayTier> tiers, Duration left) {
        requireNonNull(left, "left");
        TreeSet<DelayTier> sorted = sorted(tiers);
        if (left.isNegative() || left.isZero()) {
            throw new IllegalArgumentException("nothing left to wait (" + left + "): the task runs, it does not hop");
        }
        Duration reach = left.plus(sorted.first().delay());
        DelayTier fit = sorted.floor(new DelayTier(reach.compareTo(MAX_TIER) > 0 ? MAX_TIER : reach));
        return fit != null ? fit : sorted.first();
    }

    /**
     * The hops a task with {@code left} to wait takes when every hop takes exactly its tier's TTL, in order. The
     * real path equals it as long as each hop's broker latency stays below the smallest tier.
     *
     * @throws IllegalArgumentException as {@link #nextHop}, or when more than {@link #MAX_HOPS} hops are needed
     */
    public static List<DelayTier> plan(Collection<DelayTier> tiers, Duration left) {
        long count = hopCount(tiers, left);
        if (count > MAX_HOPS) {
            throw new IllegalArgumentException("a wait of " + DurationText.format(left) + " needs " + count
                    + " hops, more than " + MAX_HOPS);
        }
        List<DelayTier> hops = new ArrayList<>((int) count);
        Duration remaining = left;
        while (!(remaining.isNegative() || remaining.isZero())) {
            DelayTier t = nextHop(tiers, remaining);
            hops.add(t);
            remaining = remaining.minus(t.delay());
        }
        return hops;
    }

    /**
     * How many hops {@link #plan} would take, computed without walking them (a ten-year wait over a 5s tier is
     * counted, not iterated). Zero when nothing is left to wait.
     */
    public static long hopCount(Collection<DelayTier> tiers, Duration left) {
        requireNonNull(left, "left");
        TreeSet<DelayTier> sorted = sorted(tiers);
        if (left.isNegative() || left.isZero()) {
            return 0;
        }
        // Milliseconds (tiers are whole ones), rounded up: nanoseconds would overflow for waits of centuries.
        long smallest = sorted.first().delay().toMillis();
        long remaining = left.plusNanos(999_999).toMillis();
        long count = 0;
        // Greedy with slack, as nextHop: the largest tier t with t <= remaining + smallest, repeatedly.
        for (DelayTier t : sorted.descendingSet()) {
            long tier = t.delay().toMillis();
            if (remaining + smallest >= tier) {
                long n = (remaining + smallest - tier) / tier + 1; // hops of this tier while it still fits
                n = Math.min(n, Math.max(1, (remaining + tier - 1) / tier)); // never more than needed to cover
                count += n;
                remaining -= n * tier;
                if (remaining <= 0) {
                    return count;
                }
            }
        }
        return count + 1; // less than the smallest tier left: one smallest hop
    }

    /**
     * Checks that a publisher can route a wait of {@code left}.
     *
     * @throws IllegalArgumentException saying how many hops it needs and what to do, when more than
     *     {@link #MAX_PLANNED_HOPS}
     */
    public static void checkRoutable(String queue, Collection<DelayTier> tiers, Duration left) {
        long count = hopCount(tiers, left);
        if (count > MAX_PLANNED_HOPS) {
            throw new IllegalArgumentException("a delay of " + DurationText.format(left.truncatedTo(
                    java.time.temporal.ChronoUnit.SECONDS)) + " needs " + count + " hops through the delay tiers "
                    + sorted(tiers) + " of queue '" + queue + "', more than " + MAX_PLANNED_HOPS
                    + "; give the queue a longer tier (up to 24d) or publish closer to the time");
        }
    }

    private static final Duration MAX_TIER = Duration.ofMillis(Integer.MAX_VALUE);

    private static TreeSet<DelayTier> sorted(Collection<DelayTier> tiers) {
        requireNonNull(tiers, "tiers");
        if (tiers.isEmpty()) {
            throw new IllegalArgumentException("no delay tiers to hop through");
        }
        return new TreeSet<>(tiers);
    }
}
