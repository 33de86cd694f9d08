package dev.hopper.publisher;

import dev.hopper.topology.HopperException;

/** RabbitMQ could not be reached or refused the connection. The message names the URI, password masked. */
public final class BrokerUnavailableException extends HopperException {
    private static final long serialVersionUID = 1L;

    public BrokerUnavailableException(String redactedUri, Throwable cause) {
        super("cannot reach RabbitMQ at " + redactedUri + " (" + describe(cause) + "); start one with "
                + "'rabbitmq-server -detached' or point --uri / RABBITMQ_URI at a running broker", cause);
    }

    private static String describe(Throwable cause) {
        Throwable root = cause;
        while (root.getCause() != null && root.getCause() != root) {
            root = root.getCause();
        }
        String m = root.getMessage();
        String name = root.getClass().getSimpleName();
        return m == null || m.isBlank() ? name : name + ": " + m;
    }
}
