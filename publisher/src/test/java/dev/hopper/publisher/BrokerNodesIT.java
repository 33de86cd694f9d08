package dev.hopper.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.topology.testing.TestBroker;
import dev.hopper.topology.testing.TestQueues;
import java.net.ServerSocket;
import java.net.URI;
import java.time.Duration;
import java.util.HashSet;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A multi-node URI connects while a node is down: the client tries the nodes in a shuffled order and moves on
 * from one that refuses. (The node-loss runs on a real three-node cluster are ops' NodeLossClusterIT, -Pcluster.)
 */
@ExtendWith(TestQueues.class)
@Timeout(120)
class BrokerNodesIT {

    @Test
    void connectsThroughTheLiveNodeWhenAnotherIsDown(TestBroker broker) throws Exception {
        int deadPort;
        try (ServerSocket s = new ServerSocket(0)) {
            deadPort = s.getLocalPort(); // free now, and nothing listens once it is closed
        }
        URI live = broker.uri();
        String livePort = String.valueOf(live.getPort() > 0 ? live.getPort() : 5672);
        // The second URI leaves out user info and vhost: it takes the first one's.
        URI both = BrokerConfig.parseUri(live + ",amqp://" + live.getHost() + ":" + deadPort + "/");
        BrokerConfig cfg = BrokerConfig.builder(both).connectionName("nodes-it")
                .connectTimeout(Duration.ofSeconds(2)).build();
        assertThat(cfg.nodeUris()).hasSize(2);
        // The order is shuffled per connection: open several, every one lands on the live node.
        Set<String> nodes = new HashSet<>();
        for (int i = 0; i < 6; i++) {
            try (BrokerConnection c = BrokerConnection.open(cfg)) {
                assertThat(c.isOpen()).isTrue();
                nodes.add(c.connectedNode());
            }
        }
        assertThat(nodes).allMatch(n -> n.endsWith(":" + livePort));
    }
}
