package dev.hopper.publisher;

import com.rabbitmq.client.Connection;
import com.rabbitmq.client.impl.ForgivingExceptionHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * amqp-client's default handler, except that a connection driver error before the connection was handed to
 * Hopper (the broker closing the socket after refusing a login or a virtual host) is logged at debug: Hopper
 * already reports that failure, with its reason, as a {@link BrokerUnavailableException}, and the client's
 * "unexpected connection driver error ... Connection reset" warning would be a second, misleading line. After
 * {@link #opened()}, everything is logged as amqp-client does. Thread-safe.
 */
final class HandshakeQuietExceptionHandler extends ForgivingExceptionHandler {
    private static final Logger log = LoggerFactory.getLogger(HandshakeQuietExceptionHandler.class);
    private volatile boolean opened;

    /** The connection was opened: from now on driver errors are real and are logged as warnings. */
    void opened() {
        opened = true;
    }

    @Override
    public void handleUnexpectedConnectionDriverException(Connection conn, Throwable exception) {
        if (opened) {
            super.handleUnexpectedConnectionDriverException(conn, exception);
        } else {
            log.debug("connection driver error while connecting (reported by the caller): {}", exception.toString());
        }
    }
}
