package dev.hopper.ops.cli;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.Configurator.ExecutionStatus;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.LoggingEvent;
import ch.qos.logback.core.AppenderBase;
import ch.qos.logback.core.ConsoleAppender;
import java.io.IOException;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command's logging set-up in code: levels from the environment, deferring to a deployment's own file. */
class ConsoleLoggingTest {
    private static final ClassLoader NO_RESOURCES = new URLClassLoader(new URL[0], null);

    private static ConsoleLogging logging(Map<String, String> env, Map<String, String> properties,
            ClassLoader resources) {
        return new ConsoleLogging(env::get, properties::get, resources, ZoneOffset.UTC);
    }

    @Test
    void logbackFindsItAsAService() {
        assertThat(ServiceLoader.load(Configurator.class, ConsoleLogging.class.getClassLoader()).stream()
                .map(ServiceLoader.Provider::type)).contains(ConsoleLogging.class);
    }

    @Test
    void hopperAndTheAuditTrailAtInfoEverythingElseAtWarnOnStandardError() {
        LoggerContext context = new LoggerContext();
        assertThat(logging(Map.of(), Map.of(), NO_RESOURCES).configure(context))
                .isEqualTo(ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY);
        Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
        assertThat(root.getLevel()).isEqualTo(Level.WARN);
        assertThat(context.getLogger("dev.hopper").getLevel()).isEqualTo(Level.INFO);
        assertThat(context.getLogger("hopper.audit").getLevel()).isEqualTo(Level.INFO);
        assertThat(context.getLogger("dev.hopper.consumer.Worker").getEffectiveLevel()).isEqualTo(Level.INFO);
        assertThat(context.getLogger("com.rabbitmq.client.impl.AMQConnection").getEffectiveLevel())
                .isEqualTo(Level.WARN);
        assertThat(context.getLogger("io.lettuce.core.RedisClient").getEffectiveLevel()).isEqualTo(Level.WARN);
        assertThat(root.getAppender(ConsoleLogging.APPENDER_NAME)).isInstanceOfSatisfying(ConsoleAppender.class,
                a -> assertThat(a.getTarget()).isEqualTo("System.err"));
    }

    @Test
    void levelsComeFromTheEnvironmentInAnyCase() {
        LoggerContext context = new LoggerContext();
        logging(Map.of(ConsoleLogging.LEVEL_VARIABLE, " debug ", ConsoleLogging.AUDIT_VARIABLE, "OFF"), Map.of(),
                NO_RESOURCES).configure(context);
        assertThat(context.getLogger("dev.hopper").getLevel()).isEqualTo(Level.DEBUG);
        assertThat(context.getLogger("hopper.audit").getLevel()).isEqualTo(Level.OFF);
    }

    @Test
    void aValueThatNamesNoLevelLogsAtInfoAndSaysSo() {
        LoggerContext context = new LoggerContext();
        RecordingAppender seen = new RecordingAppender();
        seen.setContext(context);
        seen.start();
        context.getLogger(Logger.ROOT_LOGGER_NAME).addAppender(seen);
        logging(Map.of(ConsoleLogging.LEVEL_VARIABLE, "verbose"), Map.of(), NO_RESOURCES).configure(context);
        assertThat(context.getLogger("dev.hopper").getLevel()).isEqualTo(Level.INFO);
        assertThat(seen.messages).containsExactly(
                "HOPPER_LOG_LEVEL=verbose names no log level (TRACE, DEBUG, INFO, WARN, ERROR or OFF); logging at INFO");
    }

    @Test
    void aConfigurationFilePropertyWins() {
        LoggerContext context = new LoggerContext();
        assertThat(logging(Map.of(), Map.of("logback.configurationFile", "/etc/hopper/logback.xml"), NO_RESOURCES)
                .configure(context)).isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
        assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext()).isFalse();
        assertThat(context.getLogger("dev.hopper").getLevel()).isNull();
    }

    @Test
    void aLogbackXmlOnTheClassPathWins(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("logback.xml"), "<configuration/>");
        try (URLClassLoader withFile = new URLClassLoader(new URL[] {dir.toUri().toURL()}, null)) {
            LoggerContext context = new LoggerContext();
            assertThat(logging(Map.of(), Map.of(), withFile).configure(context))
                    .isEqualTo(ExecutionStatus.INVOKE_NEXT_IF_ANY);
            assertThat(context.getLogger(Logger.ROOT_LOGGER_NAME).iteratorForAppenders().hasNext()).isFalse();
        }
    }

    @Test
    void aLineIsTimeLevelLoggerAndMessageThenTheStackTrace() {
        LoggerContext context = new LoggerContext();
        ConsoleLineLayout layout = new ConsoleLineLayout(ZoneId.of("UTC"));
        layout.setContext(context);
        layout.start();
        Logger logger = context.getLogger("dev.hopper.consumer.Worker");

        LoggingEvent plain = new LoggingEvent("x", logger, Level.INFO, "worker started id={}", null,
                new Object[] {"w1"});
        plain.setTimeStamp(3_723_004L); // 01:02:03.004 UTC
        assertThat(layout.doLayout(plain)).isEqualTo("01:02:03.004 INFO  Worker worker started id=w1"
                + System.lineSeparator());

        LoggingEvent failed = new LoggingEvent("x", context.getLogger("Root$Inner"), Level.ERROR, "failed",
                new IllegalStateException("boom"), null);
        failed.setTimeStamp(86_399_999L); // 23:59:59.999
        String text = layout.doLayout(failed);
        assertThat(text.lines().toList()).first().isEqualTo("23:59:59.999 ERROR Root$Inner failed");
        assertThat(text.lines().toList().get(1)).isEqualTo("java.lang.IllegalStateException: boom");
        assertThat(text.lines().toList().get(2)).startsWith("\tat dev.hopper.ops.cli.ConsoleLoggingTest.");
        assertThat(text).endsWith(System.lineSeparator());
    }

    private static final class RecordingAppender extends AppenderBase<ILoggingEvent> {
        final List<String> messages = new CopyOnWriteArrayList<>();

        @Override
        protected void append(ILoggingEvent event) {
            messages.add(event.getFormattedMessage());
        }
    }
}
