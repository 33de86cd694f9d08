/**
 * {@code hopper demo}: a newcomer's tour on a local broker. {@link dev.hopper.ops.demo.DemoCommand} is the entry
 * point.
 */
@NullMarked
package dev.hopper.ops.demo;

import org.jspecify.annotations.NullMarked;
