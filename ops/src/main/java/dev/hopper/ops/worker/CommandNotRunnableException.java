package dev.hopper.ops.worker;

import dev.hopper.topology.HopperException;

/**
 * The {@code --exec} command could not be run at all (the shell's exit 126: not executable, or 127: not found):
 * the deployment is broken, not the task. Retryable, so the task is never dead-lettered for it; the worker also
 * pauses the queue ({@link PauseOnDeploymentError}) so the other tasks wait in the queue instead of using up their
 * attempts.
 */
final class CommandNotRunnableException extends HopperException {
    private static final long serialVersionUID = 1L;
    private final int exitStatus;

    CommandNotRunnableException(int exitStatus, String message) {
        super("the --exec command could not be run (exit " + exitStatus + "): " + message);
        this.exitStatus = exitStatus;
    }

    int exitStatus() {
        return exitStatus;
    }
}
