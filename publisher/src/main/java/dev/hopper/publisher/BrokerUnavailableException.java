package dev.hopper.publisher;

import com.rabbitmq.client.PossibleAuthenticationFailureException;
import com.rabbitmq.client.ShutdownSignalException;
import dev.hopper.topology.HopperException;

/**
 * RabbitMQ could not be reached or refused the connection. The message names the URI (password masked) and what
 * to do, which depends on why: a broker that is not there, credentials it refuses (the user is named), or a
 * virtual host that does not exist or that the user may not use.
 */
public final class BrokerUnavailableException extends HopperException {
    private static final long serialVersionUID = 1L;

    /** Why the connection failed, as far as the client can tell. */
    public enum Reason {
        /** Nothing answered, the connection timed out or broke. */
        UNREACHABLE,
        /** The broker refused the user name or password (or the authentication mechanism). */
        AUTHENTICATION,
        /** The virtual host does not exist, or the user has no permissions on it. */
        VIRTUAL_HOST
    }

    private final Reason reason;

    /**
     * @param redactedUri the broker URI with its password masked
     * @param user the user name the client logged in with
     * @param virtualHost the virtual host it asked for
     */
    public BrokerUnavailableException(String redactedUri, String user, String virtualHost, Throwable cause) {
        super(message(reasonOf(cause), redactedUri, user, virtualHost, cause), cause);
        this.reason = reasonOf(cause);
    }

    public Reason reason() {
        return reason;
    }

    static Reason reasonOf(Throwable cause) {
        for (Throwable t = cause; t != null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof PossibleAuthenticationFailureException) {
                return Reason.AUTHENTICATION;
            }
            if (t instanceof ShutdownSignalException s && s.getReason() instanceof com.rabbitmq.client.AMQP.Connection.Close c
                    && c.getReplyCode() == com.rabbitmq.client.AMQP.NOT_ALLOWED) {
                return Reason.VIRTUAL_HOST;
            }
        }
        return Reason.UNREACHABLE;
    }

    private static String message(Reason reason, String redactedUri, String user, String virtualHost,
            Throwable cause) {
        switch (reason) {
            case AUTHENTICATION:
                return "authentication failed for user '" + user + "' at " + redactedUri + "; check the user name "
                        + "and password in --uri / RABBITMQ_URI (the broker's log says which)";
            case VIRTUAL_HOST:
                return "virtual host '" + virtualHost + "' at " + redactedUri + " does not exist or user '" + user
                        + "' has no permissions on it; create it or grant them ('rabbitmqctl add_vhost', "
                        + "'rabbitmqctl set_permissions -p " + virtualHost + " " + user + " ...')";
            default:
                return "cannot reach RabbitMQ at " + redactedUri + " (" + describe(cause) + "); start one with "
                        + "'rabbitmq-server -detached' or point --uri / RABBITMQ_URI at a running broker";
        }
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
