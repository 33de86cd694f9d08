package dev.hopper.topology;

import java.util.Map;
import org.jspecify.annotations.Nullable;

/**
 * One exchange or queue Hopper declares, with the arguments it must have.
 *
 * @param exchangeType for exchanges; null for queues
 * @param bindExchange for queues bound to an exchange; null when published to by name only
 */
record BrokerObject(Kind kind, String name, @Nullable String exchangeType, Map<String, Object> arguments,
        @Nullable String bindExchange, @Nullable String bindKey) {

    enum Kind {
        EXCHANGE("exchange"),
        QUEUE("queue");

        final String word;

        Kind(String word) {
            this.word = word;
        }
    }

    BrokerObject {
        arguments = Map.copyOf(arguments);
    }

    static BrokerObject exchange(String name, String type) {
        return new BrokerObject(Kind.EXCHANGE, name, type, Map.of(), null, null);
    }

    static BrokerObject queue(String name, Map<String, Object> args, @Nullable String bindExchange,
            @Nullable String bindKey) {
        return new BrokerObject(Kind.QUEUE, name, null, args, bindExchange, bindKey);
    }

    String describe() {
        return kind.word + " '" + name + "'";
    }
}
