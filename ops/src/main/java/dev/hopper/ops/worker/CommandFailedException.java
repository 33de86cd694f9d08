package dev.hopper.ops.worker;

import dev.hopper.consumer.PermanentTaskException;

/** An {@code --exec} command exited with a status other than 0 and 75: dead-lettered as {@code permanent}. */
final class CommandFailedException extends PermanentTaskException {
    private static final long serialVersionUID = 1L;

    CommandFailedException(String message) {
        super(message);
    }
}
