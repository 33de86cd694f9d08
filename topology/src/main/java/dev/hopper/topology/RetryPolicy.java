package dev.hopper.topology;

import static java.util.Objects.requireNonNull;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.TreeSet;
import org.jspecify.annotations.Nullable;

/**
 * When and how often a failed task is retried. Immutable; safe to share between threads.
 *
 * <p>Exactly one of three forms says how long to wait before the next attempt:
 *
 * <ul>
 *   <li>{@code delays}: one delay per attempt, the last one repeating ({@code [5s, 30s, 5m, 1h]});
 *   <li>{@code schedule}: by age since the first attempt, like a webhook's "retry for a day"
 *       ({@code [{until: 1h, every: 5m}, {until: 24h, every: 1h}]}); past the last {@code until} the task is
 *       exhausted;
 *   <li>{@code backoff}: jittered exponential backoff (evaluated with Resilience4j's interval functions by the
 *       consumer).
 * </ul>
 *
 * The wanted delay is then rounded up to a delay tier ({@link DelayTier#pick}). {@code maxAttempts} counts
 * handler runs; {@code maxAge} bounds the time since the first attempt. {@code permanentOn} and {@code retryOn}
 * are exception class names (matched against the thrown class and its superclasses): a permanent class is
 * dead-lettered at once; when {@code retryOn} is non-empty only those classes are retried.
 *
 * @param maxAge null for no age limit (a schedule always has one: its last {@code until})
 */
public record RetryPolicy(
        List<Duration> delays,
        List<ScheduleStep> schedule,
        @Nullable Backoff backoff,
        int maxAttempts,
        @Nullable Duration maxAge,
        List<String> retryOn,
        List<String> permanentOn) {

    /** The default policy: delays 5s, 30s, 5m, 1h; 8 attempts; no age limit. */
    public static final RetryPolicy DEFAULT = new RetryPolicy(
            List.of(Duration.ofSeconds(5), Duration.ofSeconds(30), Duration.ofMinutes(5), Duration.ofHours(1)),
            List.of(), null, 8, null, List.of(), List.of());

    /** The webhook policy of design.md: every 5 minutes in the first hour, hourly until a day has passed. */
    public static final RetryPolicy RETRY_FOR_A_DAY = new RetryPolicy(
            List.of(),
            List.of(new ScheduleStep(Duration.ofHours(1), Duration.ofMinutes(5)),
                    new ScheduleStep(Duration.ofHours(24), Duration.ofHours(1))),
            null, Integer.MAX_VALUE, Duration.ofHours(24), List.of(), List.of());

    public RetryPolicy {
        delays = List.copyOf(delays);
        schedule = List.copyOf(schedule);
        retryOn = List.copyOf(retryOn);
        permanentOn = List.copyOf(permanentOn);
        int forms = (delays.isEmpty() ? 0 : 1) + (schedule.isEmpty() ? 0 : 1) + (backoff == null ? 0 : 1);
        if (forms != 1) {
            throw new IllegalArgumentException("a retry policy needs exactly one of delays, schedule or backoff");
        }
        for (Duration d : delays) {
            if (d.isNegative() || d.isZero()) {
                throw new IllegalArgumentException("retry delays must be positive, was " + d);
            }
        }
        Duration previous = Duration.ZERO;
        for (ScheduleStep s : schedule) {
            if (s.until().compareTo(previous) <= 0) {
                throw new IllegalArgumentException("schedule steps must have increasing 'until' values");
            }
            previous = s.until();
        }
        if (maxAttempts < 1) {
            throw new IllegalArgumentException("max-attempts must be >= 1, was " + maxAttempts);
        }
        if (maxAge != null && (maxAge.isNegative() || maxAge.isZero())) {
            throw new IllegalArgumentException("max-age must be positive, was " + maxAge);
        }
        if (maxAge == null && !schedule.isEmpty()) {
            maxAge = schedule.get(schedule.size() - 1).until();
        }
    }

    /** Same policy with another attempt limit. */
    public RetryPolicy withMaxAttempts(int n) {
        return new RetryPolicy(delays, schedule, backoff, n, maxAge, retryOn, permanentOn);
    }

    /** Same policy with another age limit. */
    public RetryPolicy withMaxAge(@Nullable Duration age) {
        return new RetryPolicy(delays, schedule, backoff, maxAttempts, age, retryOn, permanentOn);
    }

    /** Same policy with these permanent-failure classes. */
    public RetryPolicy withPermanentOn(List<String> classNames) {
        return new RetryPolicy(delays, schedule, backoff, maxAttempts, maxAge, retryOn, classNames);
    }

    /** A builder: without a form set, the default delays; see {@link Builder} for the other defaults. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder starting from this policy. */
    public Builder toBuilder() {
        Builder b = new Builder();
        b.delays = new ArrayList<>(delays);
        b.schedule = new ArrayList<>(schedule);
        b.backoff = backoff;
        b.maxAttempts = maxAttempts;
        b.maxAge = maxAge;
        b.retryOn = new ArrayList<>(retryOn);
        b.permanentOn = new ArrayList<>(permanentOn);
        return b;
    }

    /**
     * Builds a {@link RetryPolicy}; set exactly one form ({@link #delays}, {@link #schedule}/{@link #step},
     * {@link #backoff}), or none for the default delays. Defaults: max-attempts 8 (unlimited for a schedule, which
     * ends at its last step's age instead), no max-age (a schedule's last step for a schedule), no retry-on or
     * permanent-on classes. Not thread-safe.
     */
    public static final class Builder {
        private List<Duration> delays = new ArrayList<>();
        private List<ScheduleStep> schedule = new ArrayList<>();
        private @Nullable Backoff backoff;
        private @Nullable Integer maxAttempts;
        private @Nullable Duration maxAge;
        private List<String> retryOn = new ArrayList<>();
        private List<String> permanentOn = new ArrayList<>();

        private Builder() {}

        /** Wait these delays before attempts 2, 3, ...; the last one repeats. */
        public Builder delays(List<Duration> values) {
            this.delays = new ArrayList<>(values);
            return this;
        }

        public Builder delays(Duration... values) {
            return delays(List.of(values));
        }

        /** An age schedule, e.g. every 5m until 1h, then every 1h until 24h. */
        public Builder schedule(List<ScheduleStep> steps) {
            this.schedule = new ArrayList<>(steps);
            return this;
        }

        /** Adds one schedule step: retry {@code every} until {@code until} since the first attempt. */
        public Builder step(Duration until, Duration every) {
            this.schedule.add(new ScheduleStep(until, every));
            return this;
        }

        public Builder backoff(@Nullable Backoff value) {
            this.backoff = value;
            return this;
        }

        public Builder maxAttempts(int n) {
            this.maxAttempts = n;
            return this;
        }

        public Builder maxAge(@Nullable Duration age) {
            this.maxAge = age;
            return this;
        }

        /** Only these exception classes (full names) are retried; any other failure is permanent. */
        public Builder retryOn(List<String> classNames) {
            this.retryOn = new ArrayList<>(classNames);
            return this;
        }

        /** These exception classes (full names) are dead-lettered at once. */
        public Builder permanentOn(List<String> classNames) {
            this.permanentOn = new ArrayList<>(classNames);
            return this;
        }

        /** @throws IllegalArgumentException for conflicting or out-of-range settings */
        public RetryPolicy build() {
            List<Duration> d = delays.isEmpty() && schedule.isEmpty() && backoff == null ? DEFAULT.delays() : delays;
            int attempts = maxAttempts != null ? maxAttempts
                    : schedule.isEmpty() ? DEFAULT.maxAttempts() : Integer.MAX_VALUE;
            return new RetryPolicy(d, schedule, backoff, attempts, maxAge, retryOn, permanentOn);
        }
    }

    public static RetryPolicy ofDelays(Duration... delays) {
        return new RetryPolicy(List.of(delays), List.of(), null, Math.max(1, delays.length + 1), null, List.of(), List.of());
    }

    public Optional<Duration> maxAgeLimit() {
        return Optional.ofNullable(maxAge);
    }

    /**
     * The delay the schedule form asks for at {@code age} since the first attempt, or empty once the schedule
     * is over. Only meaningful for the schedule form.
     */
    public Optional<Duration> scheduledDelay(Duration age) {
        for (ScheduleStep s : schedule) {
            if (age.compareTo(s.until()) < 0) {
                return Optional.of(s.every());
            }
        }
        return Optional.empty();
    }

    /**
     * The delay tiers this policy can ask for, so a queue whose config does not list tiers gets exactly the
     * ones it needs. For backoff: initial, initial×multiplier, … up to max.
     */
    public List<DelayTier> impliedTiers() {
        TreeSet<DelayTier> tiers = new TreeSet<>();
        delays.forEach(d -> tiers.add(new DelayTier(d)));
        schedule.forEach(s -> tiers.add(new DelayTier(s.every())));
        if (backoff != null) {
            double ms = backoff.initial().toMillis();
            while (ms < backoff.max().toMillis()) {
                tiers.add(new DelayTier(Duration.ofMillis(roundToSecondIfLarge((long) ms))));
                ms *= backoff.multiplier();
            }
            tiers.add(new DelayTier(backoff.max()));
        }
        return new ArrayList<>(tiers);
    }

    private static long roundToSecondIfLarge(long ms) {
        return ms >= 10_000 ? Math.round(ms / 1000.0) * 1000 : ms;
    }

    /** One step of an age schedule: until {@code until} since the first attempt, retry {@code every}. */
    public record ScheduleStep(Duration until, Duration every) {
        public ScheduleStep {
            requireNonNull(until, "until");
            requireNonNull(every, "every");
            if (every.isNegative() || every.isZero()) {
                throw new IllegalArgumentException("schedule 'every' must be positive, was " + every);
            }
        }
    }

    /**
     * Jittered exponential backoff.
     *
     * @param jitter randomization factor in [0, 1): 0.5 means ±50%
     */
    public record Backoff(Duration initial, double multiplier, Duration max, double jitter) {
        public Backoff {
            requireNonNull(initial, "initial");
            requireNonNull(max, "max");
            if (initial.isNegative() || initial.isZero()) {
                throw new IllegalArgumentException("backoff initial must be positive, was " + initial);
            }
            if (multiplier < 1.0) {
                throw new IllegalArgumentException("backoff multiplier must be >= 1, was " + multiplier);
            }
            if (max.compareTo(initial) < 0) {
                throw new IllegalArgumentException("backoff max must be >= initial");
            }
            if (jitter < 0 || jitter >= 1) {
                throw new IllegalArgumentException("backoff jitter must be in [0, 1), was " + jitter);
            }
        }
    }
}
