package dev.hopper.consumer;

/**
 * What {@link DeliveryDecider#decide} answers for a delivery's facts so far: either a terminal {@link Decision}
 * (how the delivery is settled) or an {@link Effect} to carry out first, whose result is added to the facts before
 * deciding again. Both are plain values, so an executor may carry out the effects of several deliveries together.
 */
sealed interface Step permits Decision, Effect {}
