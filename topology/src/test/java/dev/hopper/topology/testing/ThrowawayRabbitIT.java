package dev.hopper.topology.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.BlockedListener;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.MessageProperties;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(300)
class ThrowawayRabbitIT {

    @Test
    void aNodeOfItsOwnTakesAlarmsConnectionClosesAndKillAndIsGoneAfterClose() throws Exception {
        Path home;
        long pid;
        try (ThrowawayRabbit node = ThrowawayRabbit.start("rel-fixture", 5691)) {
            home = node.home();
            pid = node.pid();
            assertThat(ProcessHandle.of(pid)).isPresent();
            Connection c = node.connect("fixture-test");
            AtomicReference<String> blocked = new AtomicReference<>();
            c.addBlockedListener(new BlockedListener() {
                @Override
                public void handleBlocked(String reason) {
                    blocked.set(reason);
                }

                @Override
                public void handleUnblocked() {
                    blocked.set("unblocked");
                }
            });
            Channel ch = c.createChannel();
            ch.queueDeclare("fixture-q", true, false, false, null);
            ch.confirmSelect();
            node.raiseMemoryAlarm();
            ch.basicPublish("", "fixture-q", MessageProperties.PERSISTENT_BASIC, new byte[10]);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(blocked.get()).isEqualTo("low on memory"));
            node.clearMemoryAlarm();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(blocked.get()).isEqualTo("unblocked"));
            ch.waitForConfirmsOrDie(30_000);

            assertThat(node.closeAllConnections()).isEqualTo(1);
            await().atMost(Duration.ofSeconds(30)).until(() -> !c.isOpen());

            node.kill9();
            assertThat(ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false)).isFalse();
            node.restart();
            assertThat(node.pid()).isNotEqualTo(pid);
            pid = node.pid();
            try (Connection again = node.connect("fixture-again"); Channel ch2 = again.createChannel()) {
                assertThat(ch2.queueDeclarePassive("fixture-q").getMessageCount()).isEqualTo(1);
                node.stopApp();
                await().atMost(Duration.ofSeconds(30)).until(() -> !again.isOpen());
                node.startApp();
            }
        }
        long gone = pid;
        assertThat(ProcessHandle.of(gone).map(ProcessHandle::isAlive).orElse(false)).isFalse();
        assertThat(Files.exists(home)).isFalse();
        assertThat(TestBroker.answers("127.0.0.1", 5691)).isFalse();
    }
}
