package dev.hopper.ops.cli;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.encoder.LayoutWrappingEncoder;
import ch.qos.logback.core.spi.ContextAwareBase;
import java.time.ZoneId;
import java.util.Locale;
import java.util.function.UnaryOperator;
import org.jspecify.annotations.Nullable;

/**
 * How the {@code hopper} command logs, unless the deployment says otherwise: one line per event on standard error,
 * {@code HH:mm:ss.SSS LEVEL Logger message}, with the stack trace of an exception after it. Hopper's own lines at
 * {@code $HOPPER_LOG_LEVEL} (default INFO), the audit trail of replays, purges and imports ({@code hopper.audit})
 * at {@code $HOPPER_AUDIT_LEVEL} (default INFO), everything else (amqp-client, Lettuce, Netty) at WARN.
 *
 * <p>What Hopper logs at INFO and above is one line per state change or problem, never one per successful task:
 * WARN for a task dead-lettered (queue, id, type, reason, error), a retry scheduled, a circuit breaker opened,
 * consuming paused, connection and store trouble; INFO for a worker started or stopped, a breaker half-open or
 * closed, consuming resumed, a connection recovered, topology declared, a probe serving. Per-task details
 * (superseded, lock busy) are DEBUG.
 *
 * <p>A deployment's own configuration wins: with {@code -Dlogback.configurationFile=...}, or a
 * {@code logback.xml} or {@code logback-test.xml} on the class path, this configurator does nothing and Logback
 * reads that file as usual.
 *
 * <p>Why code and not a shipped {@code logback.xml}: reading XML loads Logback's Joran configurator, a SAX parser
 * and {@code PatternLayout}, whose converter table alone spins some seventy lambda classes. Measured on the
 * benchmark machine: Logback's first logger in a bare JVM cost 400 ms of CPU (230 ms wall) with the XML and 140 ms
 * (80 ms) this way; a whole {@code hopper bench --tasks 300} JVM went from 2.45 to 2.27 s of CPU and from 1.67 to
 * 1.58 s wall (means of six interleaved runs), a start-up cost every {@code hopper} command and worker pays.
 * Logback finds this class through {@code META-INF/services/ch.qos.logback.classic.spi.Configurator}, its
 * documented way to configure in code.
 */
public final class ConsoleLogging extends ContextAwareBase implements Configurator {
    /** Level of the {@code dev.hopper} loggers. */
    static final String LEVEL_VARIABLE = "HOPPER_LOG_LEVEL";
    /** Level of the {@code hopper.audit} logger (replay, purge and import runs). */
    static final String AUDIT_VARIABLE = "HOPPER_AUDIT_LEVEL";
    static final String APPENDER_NAME = "STDERR";

    private final UnaryOperator<@Nullable String> environment;
    private final UnaryOperator<@Nullable String> systemProperties;
    private final ClassLoader resources;
    private final ZoneId zone;

    /** Reads the process's environment, system properties and class path; Logback calls this. */
    public ConsoleLogging() {
        this(System::getenv, System::getProperty, ConsoleLogging.class.getClassLoader(), ZoneId.systemDefault());
    }

    ConsoleLogging(UnaryOperator<@Nullable String> environment, UnaryOperator<@Nullable String> systemProperties,
            ClassLoader resources, ZoneId zone) {
        this.environment = environment;
        this.systemProperties = systemProperties;
        this.resources = resources;
        this.zone = zone;
    }

    @Override
    public ExecutionStatus configure(LoggerContext context) {
        if (deploymentConfigures()) {
            return ExecutionStatus.INVOKE_NEXT_IF_ANY;
        }
        ConsoleLineLayout layout = new ConsoleLineLayout(zone);
        layout.setContext(context);
        layout.start();
        LayoutWrappingEncoder<ILoggingEvent> encoder = new LayoutWrappingEncoder<>();
        encoder.setContext(context);
        encoder.setLayout(layout);
        encoder.start();
        ConsoleAppender<ILoggingEvent> appender = new ConsoleAppender<>();
        appender.setContext(context);
        appender.setName(APPENDER_NAME);
        appender.setTarget("System.err");
        appender.setEncoder(encoder);
        appender.start();

        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        root.setLevel(Level.WARN);
        root.addAppender(appender);
        String hopper = environment.apply(LEVEL_VARIABLE);
        String audit = environment.apply(AUDIT_VARIABLE);
        context.getLogger("dev.hopper").setLevel(level(hopper));
        context.getLogger("hopper.audit").setLevel(level(audit));
        // After the appender exists, so that the warning is seen where the user looks.
        warnIfNotALevel(context, LEVEL_VARIABLE, hopper);
        warnIfNotALevel(context, AUDIT_VARIABLE, audit);
        return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
    }

    private boolean deploymentConfigures() {
        String file = systemProperties.apply("logback.configurationFile");
        return (file != null && !file.isBlank()) || resources.getResource("logback-test.xml") != null
                || resources.getResource("logback.xml") != null;
    }

    private static Level level(@Nullable String value) {
        Level named = named(value);
        return named == null ? Level.INFO : named;
    }

    private static @Nullable Level named(@Nullable String value) {
        if (value == null || value.isBlank()) {
            return null;
        }
        // Level.toLevel turns an unknown name into its default without saying so; only the six names count here.
        return switch (value.trim().toUpperCase(Locale.ROOT)) {
            case "TRACE" -> Level.TRACE;
            case "DEBUG" -> Level.DEBUG;
            case "INFO" -> Level.INFO;
            case "WARN" -> Level.WARN;
            case "ERROR" -> Level.ERROR;
            case "OFF" -> Level.OFF;
            default -> null;
        };
    }

    private static void warnIfNotALevel(LoggerContext context, String variable, @Nullable String value) {
        if (value != null && !value.isBlank() && named(value) == null) {
            context.getLogger(ConsoleLogging.class).warn("{}={} names no log level (TRACE, DEBUG, INFO, WARN, "
                    + "ERROR or OFF); logging at INFO", variable, value);
        }
    }
}
