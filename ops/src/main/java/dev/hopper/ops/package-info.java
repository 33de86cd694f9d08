/** The {@code hopper} command. {@link dev.hopper.ops.HopperCommand} is the entry point. */
@NullMarked
package dev.hopper.ops;

import org.jspecify.annotations.NullMarked;
