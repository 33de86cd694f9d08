package dev.hopper.ops.cli;

import dev.hopper.publisher.BrokerConfig;
import dev.hopper.topology.UriRedactor;
import dev.hopper.topology.DeadReason;
import dev.hopper.topology.DurationText;
import dev.hopper.topology.QueueNames;
import java.net.URI;
import java.net.URISyntaxException;
import java.time.Duration;
import java.util.Arrays;
import java.util.stream.Collectors;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * picocli converters for Hopper's value syntaxes. A value that does not convert is a usage error (exit 2) with
 * a message that shows the expected form; URIs are never echoed with their password.
 */
public final class Converters {
    private Converters() {}

    /** {@code 7d}, {@code 30s}, {@code 500ms}: {@link DurationText}. */
    public static final class DurationConverter implements ITypeConverter<Duration> {
        @Override
        public Duration convert(String value) {
            try {
                return DurationText.parse(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** An {@code amqp://} or {@code amqps://} URI; the error names it with the password masked. */
    public static final class BrokerUriConverter implements ITypeConverter<URI> {
        @Override
        public URI convert(String value) {
            URI uri;
            try {
                uri = new URI(value.trim());
            } catch (URISyntaxException e) {
                throw new TypeConversionException("'" + UriRedactor.redactText(value) + "' is not a URI like "
                        + "amqp://user:pass@host:5672/vhost");
            }
            try {
                return BrokerConfig.builder(uri).build().uri();
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }

    /** A {@code redis://} or {@code rediss://} URI; the error names it with the password masked. */
    public static final class RedisUriConverter implements ITypeConverter<URI> {
        @Override
        public URI convert(String value) {
            URI uri;
            try {
                uri = new URI(value.trim());
            } catch (URISyntaxException e) {
                throw new TypeConversionException("'" + UriRedactor.redactText(value) + "' is not a URI like "
                        + "redis://host:6379");
            }
            if (!"redis".equals(uri.getScheme()) && !"rediss".equals(uri.getScheme()) || uri.getHost() == null) {
                throw new TypeConversionException("'" + UriRedactor.redactText(value) + "' is not a URI like "
                        + "redis://host:6379");
            }
            return uri;
        }
    }

    /** A dead reason's wire value ({@code exhausted}, {@code permanent}, ...). */
    public static final class DeadReasonConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            if (DeadReason.fromWire(value).isEmpty()) {
                throw new TypeConversionException("'" + value + "' is not a dead reason; use one of "
                        + Arrays.stream(DeadReason.values()).map(DeadReason::wireValue)
                                .collect(Collectors.joining(", ")));
            }
            return value;
        }
    }

    /** A work queue name (not a retry or dead queue). */
    public static final class WorkQueueConverter implements ITypeConverter<String> {
        @Override
        public String convert(String value) {
            try {
                return QueueNames.checkWorkQueue(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(e.getMessage());
            }
        }
    }
}
