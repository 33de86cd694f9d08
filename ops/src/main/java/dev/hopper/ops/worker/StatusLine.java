package dev.hopper.ops.worker;

import dev.hopper.consumer.WorkerListener;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts a worker's settlements for the periodic status line and the stop message:
 * {@code completed=12 retried=3 dead=1 in-flight=2}. Thread-safe.
 */
final class StatusLine implements WorkerListener {
    private final LongAdder completed = new LongAdder();
    private final LongAdder retried = new LongAdder();
    private final LongAdder dead = new LongAdder();

    @Override
    public void onSettled(Settled event) {
        switch (event.outcome()) {
            case SUCCESS:
                completed.increment();
                break;
            case RETRIED:
            case LOCK_BUSY:
                retried.increment();
                break;
            case DEAD:
                dead.increment();
                break;
            default:
                break;
        }
    }

    String render(int inFlight) {
        return "completed=" + completed.sum() + " retried=" + retried.sum() + " dead=" + dead.sum()
                + " in-flight=" + inFlight;
    }
}
