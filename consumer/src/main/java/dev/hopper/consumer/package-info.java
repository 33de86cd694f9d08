/**
 * Running task handlers with late acknowledgement: retries through TTL tiers, dead-lettering with reasons,
 * lock and revision checks, metrics and circuit breaking. {@code Worker} is the entry type.
 */
@NullMarked
package dev.hopper.consumer;

import org.jspecify.annotations.NullMarked;
