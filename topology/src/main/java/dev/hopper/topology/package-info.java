/**
 * Hopper's wire contract: exchange and queue names and their arguments, the {@code x-hopper-*} headers,
 * the task envelope and its codec, the {@code hopper.yml} configuration model, and {@link
 * dev.hopper.topology.Topology}, which declares and verifies all of it on a broker.
 *
 * <p>Everything a producer, a worker and an operator must agree on is spelled here and nowhere else.
 */
@NullMarked
package dev.hopper.topology;

import org.jspecify.annotations.NullMarked;
