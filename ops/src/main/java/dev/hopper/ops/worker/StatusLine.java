package dev.hopper.ops.worker;

import dev.hopper.consumer.WorkerListener;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.LongAdder;

/**
 * Counts a worker's settlements for the periodic status line and the stop message:
 * {@code completed=12 retried=3 dead=1 superseded=0 in-flight=2}. Superseded tasks (acked without running, or
 * whose failure was dropped because the key's revision moved on) are counted apart: they were neither done nor
 * lost. Thread-safe.
 */
final class StatusLine implements WorkerListener {
    private final LongAdder completed = new LongAdder();
    private final LongAdder retried = new LongAdder();
    private final LongAdder dead = new LongAdder();
    private final LongAdder superseded = new LongAdder();

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
            case SUPERSEDED:
                superseded.increment();
                break;
            default:
                break;
        }
    }

    String render(int inFlight) {
        return "completed=" + completed.sum() + " retried=" + retried.sum() + " dead=" + dead.sum()
                + " superseded=" + superseded.sum() + " in-flight=" + inFlight;
    }

    /** The counts as JSON fields. */
    Map<String, Object> fields(int inFlight) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("completed", completed.sum());
        m.put("retried", retried.sum());
        m.put("dead", dead.sum());
        m.put("superseded", superseded.sum());
        m.put("in_flight", inFlight);
        return m;
    }
}
