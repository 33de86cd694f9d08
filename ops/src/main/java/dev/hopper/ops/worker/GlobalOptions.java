package dev.hopper.ops.worker;

import java.net.URI;
import java.nio.file.Path;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The {@code hopper} command's global options as a subcommand in another package sees them. Read through
 * picocli's model of the root command, so subcommands need nothing from {@code HopperCommand} but its option
 * names.
 *
 * @param redis the {@code --redis} URI (default {@code $REDIS_URI}), null for the in-memory store
 * @param config the {@code --config} file, null when none was given
 */
public record GlobalOptions(URI uri, @Nullable URI redis, @Nullable Path config, boolean json, boolean verbose) {

    /** The global options of the command line {@code spec} belongs to. */
    public static GlobalOptions of(CommandSpec spec) {
        CommandSpec root = spec.root();
        URI uri = value(root, "--uri", URI.class);
        return new GlobalOptions(uri == null ? dev.hopper.publisher.BrokerConfig.DEFAULT_URI : uri,
                value(root, "--redis", URI.class), value(root, "--config", Path.class), Boolean.TRUE.equals(value(root, "--json", Boolean.class)),
                Boolean.TRUE.equals(value(root, "--verbose", Boolean.class)));
    }

    private static <T> @Nullable T value(CommandSpec root, String name, Class<T> type) {
        OptionSpec o = root.findOption(name);
        if (o == null) {
            return null;
        }
        Object v = o.getValue();
        return type.isInstance(v) ? type.cast(v) : null;
    }
}
