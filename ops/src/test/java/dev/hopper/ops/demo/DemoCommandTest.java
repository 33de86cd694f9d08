package dev.hopper.ops.demo;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.ops.cli.HopperCommand;
import dev.hopper.topology.DelayTier;
import dev.hopper.topology.QueueSpec;
import dev.hopper.topology.RetryPolicy;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

class DemoCommandTest {

    @Test
    void withoutABrokerItSaysHowToGetOneOnOneLineAndExits1() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = HopperCommand.execute(new PrintWriter(out), new PrintWriter(err), "--uri",
                "amqp://guest:secret@127.0.0.1:1/", "demo");
        assertThat(exit).isEqualTo(1);
        assertThat(err.toString().strip().lines()).singleElement().satisfies(l -> assertThat(l)
                .startsWith("hopper: cannot reach RabbitMQ at amqp://guest:***@127.0.0.1:1/")
                .contains("rabbitmq-server").doesNotContain("secret"));
    }

    @Test
    void theNarratedTierIsTheOneThePolicyPicks() {
        QueueSpec spec = QueueSpec.builder("q").tiers(List.of(DelayTier.parse("1s"), DelayTier.parse("5s")))
                .retry(RetryPolicy.ofDelays(Duration.ofSeconds(1), Duration.ofSeconds(3))).build();
        Narrator n = new Narrator(new PrintWriter(new StringWriter()), null, spec, new DemoShop());
        assertThat(n.tierAfter(1)).isEqualTo(DelayTier.parse("1s"));
        assertThat(n.tierAfter(2)).isEqualTo(DelayTier.parse("5s")); // 3s rounds up to the 5s tier
        assertThat(n.tierAfter(7)).isEqualTo(DelayTier.parse("5s")); // the last delay repeats
    }
}
