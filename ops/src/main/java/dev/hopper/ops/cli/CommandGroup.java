package dev.hopper.ops.cli;

/**
 * A top-level {@code hopper} subcommand ({@code dlq}, {@code publish}, ...): a picocli {@code @Command} class with a
 * public no-argument constructor, listed in {@code META-INF/services/dev.hopper.ops.cli.CommandGroup} in the order
 * {@code hopper --help} shows them. {@link HopperCommand} finds the groups through {@link java.util.ServiceLoader}
 * so that this package, which every group uses for its global options and output, depends on none of them.
 */
public interface CommandGroup {}
