package dev.hopper.consumer;

/**
 * The interruptible part of one handler run. The deadline sweeper and lease renewals stop a run only while it is
 * still running, and under this object's lock, so an interrupt can never leak into the next task the same thread
 * runs. The handler thread calls {@link #finish()} as soon as the handler returns or throws.
 */
final class HandlerRun {
    /** Why a run was stopped from outside. */
    enum Stop { NONE, TIMEOUT, LEASE_LOST }

    private final Thread thread;
    private final TaskContext context;
    private boolean finished;
    private Stop stop = Stop.NONE;

    HandlerRun(Thread thread, TaskContext context) {
        this.thread = thread;
        this.context = context;
    }

    /** Stops the run for {@code why} if it is still running; the first stop wins. */
    synchronized void stop(Stop why) {
        if (finished || stop != Stop.NONE) {
            return;
        }
        stop = why;
        if (why == Stop.LEASE_LOST) {
            context.markLeaseLost();
        } else {
            context.cancel();
        }
        thread.interrupt();
    }

    synchronized boolean isFinished() {
        return finished;
    }

    /** Called by the handler thread when the handler returned; clears any interrupt the run caused. */
    synchronized Stop finish() {
        finished = true;
        if (stop != Stop.NONE) {
            Thread.interrupted();
        }
        return stop;
    }
}
