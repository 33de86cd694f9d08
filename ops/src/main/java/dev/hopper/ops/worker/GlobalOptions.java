package dev.hopper.ops.worker;

import java.net.URI;
import java.nio.file.Path;
import dev.hopper.ops.Converters;
import org.jspecify.annotations.Nullable;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.TypeConversionException;
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

    /**
     * The global options of the command line {@code spec} belongs to.
     *
     * @throws ParameterException (exit 2) when {@code --redis} / {@code REDIS_URI} is not a redis:// URI
     */
    public static GlobalOptions of(CommandSpec spec) {
        CommandSpec root = spec.root();
        URI uri = value(root, "--uri", URI.class);
        // --redis is kept as text by the root command and converted where it is used.
        String redisText = value(root, "--redis", String.class);
        URI redis = null;
        if (redisText != null && !redisText.isBlank()) {
            try {
                redis = new Converters.RedisUriConverter().convert(redisText);
            } catch (TypeConversionException e) {
                throw new ParameterException(spec.commandLine(), "invalid --redis (or REDIS_URI): " + e.getMessage());
            }
        }
        return new GlobalOptions(uri == null ? dev.hopper.publisher.BrokerConfig.DEFAULT_URI : uri, redis,
                value(root, "--config", Path.class), Boolean.TRUE.equals(value(root, "--json", Boolean.class)),
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
