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

    /** An ISO-8601 instant with a zone, {@code 2026-12-24T18:00:00Z} or {@code 2026-12-24T19:00:00+01:00}. */
    public static final class InstantConverter implements ITypeConverter<java.time.Instant> {
        @Override
        public java.time.Instant convert(String value) {
            try {
                return java.time.OffsetDateTime.parse(value.trim()).toInstant();
            } catch (java.time.format.DateTimeParseException e) {
                throw new TypeConversionException("'" + value + "' is not an instant like 2026-12-24T18:00:00Z");
            }
        }
    }

    /**
     * An {@code amqp://} or {@code amqps://} URI, or several for the nodes of a cluster (comma-separated URIs, or
     * one URI with a host list: {@link BrokerConfig#parseUri}); the error names it with the password masked.
     */
    public static final class BrokerUriConverter implements ITypeConverter<URI> {
        @Override
        public URI convert(String value) {
            try {
                return BrokerConfig.parseUri(value);
            } catch (IllegalArgumentException e) {
                throw new TypeConversionException(UriRedactor.redactText(e.getMessage()));
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
