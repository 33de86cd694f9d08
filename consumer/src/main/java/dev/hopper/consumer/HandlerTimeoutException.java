package dev.hopper.consumer;

import dev.hopper.topology.HopperException;
import java.time.Duration;

/** A handler ran past its timeout and was interrupted; retried like any other failure. */
public final class HandlerTimeoutException extends HopperException {
    private static final long serialVersionUID = 1L;

    HandlerTimeoutException(Duration timeout) {
        super("handler did not finish within its timeout of " + dev.hopper.topology.DurationText.format(timeout)
                + " and was interrupted");
    }
}
