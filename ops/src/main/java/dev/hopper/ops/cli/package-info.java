/**
 * The {@code hopper} command. {@link dev.hopper.ops.cli.HopperCommand} is the entry point; the global
 * options ({@link dev.hopper.ops.cli.GlobalOptions}), value converters, exit codes and output (text or JSON lines)
 * every command group uses. Depends on no command group: groups are found through
 * {@link dev.hopper.ops.cli.CommandGroup}.
 */
@NullMarked
package dev.hopper.ops.cli;

import org.jspecify.annotations.NullMarked;
