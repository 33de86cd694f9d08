/**
 * Running task handlers with late acknowledgement: retries through TTL tiers, dead-lettering with reasons,
 * lock and revision checks, metrics and circuit breaking. {@code Worker} is the entry type.
 *
 * <p>How one delivery is handled (package-private types): {@code QueueConsumer} hands it to a handler thread,
 * where {@code DeliveryExecutor} reads it ({@code DeliveryReader} → {@code Reading}) into {@code DeliveryFacts}
 * and loops: {@code DeliveryDecider.decide(facts)} answers a {@code Step}, either an {@code Effect} (a value such
 * as {@code CheckAndLock} or {@code RunHandler}) that {@code DeliveryEffects} carries out, adding its result to
 * the facts, or a terminal {@code Decision} ({@code Ack}, {@code RetryLater}, {@code DeadLetter},
 * {@code Republish}, {@code HandBack}) that {@code DecisionSettler} carries out: publish the copy it names,
 * confirmed, then settle the original exactly once through the channel's {@code SettlementSink}. Only the decider
 * chooses; it is pure and table-tested row by row ({@code DeliveryDeciderTest}).
 *
 * <p>Adding a row: if it needs a fact nobody finds out yet, add the fact to {@code DeliveryFacts} (field,
 * accessor, {@code with...}), an {@code Effect} record that asks for it and its case in
 * {@code DeliveryEffects.run}; then add the check to {@code DeliveryDecider.decide} at its place in design.md's
 * order (returning the effect while the fact is unknown, a decision once it is known), and a named row in the
 * table test. A new way of settling is a new {@code Decision} record plus its case in {@code DecisionSettler}.
 * Because effects and decisions are plain values, the same effect of several deliveries can be carried out in
 * one batched call ({@code DeliveryEffects} sends check-and-lock, complete and done checks through the worker's
 * {@code BatchedStore}, whose {@code CallBatcher}s gather calls that arrive together into one store round trip),
 * and a channel's {@code SettlementSink}s coalesce acks ({@code AckCoalescer}: {@code basic.ack multiple=true}
 * over runs of acked deliveries, within about a millisecond).
 */
@NullMarked
package dev.hopper.consumer;

import org.jspecify.annotations.NullMarked;
