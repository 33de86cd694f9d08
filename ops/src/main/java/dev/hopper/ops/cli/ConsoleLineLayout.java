package dev.hopper.ops.cli;

import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import java.time.Instant;
import java.time.LocalTime;
import java.time.ZoneId;

/**
 * One log line as the pattern {@code %d{HH:mm:ss.SSS} %-5level %logger{0} %msg%n} would write it, followed by the
 * event's exception as Logback prints it, without {@code PatternLayout}'s parser and converter table (see
 * {@link ConsoleLogging}). Stateless apart from the zone; Logback calls it from any logging thread.
 */
final class ConsoleLineLayout extends LayoutBase<ILoggingEvent> {
    private final ZoneId zone;

    ConsoleLineLayout(ZoneId zone) {
        this.zone = zone;
    }

    @Override
    public String doLayout(ILoggingEvent event) {
        StringBuilder line = new StringBuilder(128);
        LocalTime time = LocalTime.ofInstant(Instant.ofEpochMilli(event.getTimeStamp()), zone);
        digits(line, time.getHour(), 2).append(':');
        digits(line, time.getMinute(), 2).append(':');
        digits(line, time.getSecond(), 2).append('.');
        digits(line, time.getNano() / 1_000_000, 3).append(' ');
        String level = event.getLevel().toString();
        line.append(level);
        for (int i = level.length(); i < 5; i++) {
            line.append(' ');
        }
        String logger = event.getLoggerName();
        line.append(' ').append(logger, logger.lastIndexOf('.') + 1, logger.length())
                .append(' ').append(event.getFormattedMessage()).append(CoreConstants.LINE_SEPARATOR);
        IThrowableProxy thrown = event.getThrowableProxy();
        if (thrown != null) {
            line.append(ThrowableProxyUtil.asString(thrown));
        }
        return line.toString();
    }

    private static StringBuilder digits(StringBuilder line, int value, int width) {
        String s = Integer.toString(value);
        for (int i = s.length(); i < width; i++) {
            line.append('0');
        }
        return line.append(s);
    }
}
