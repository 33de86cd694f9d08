package dev.hopper.consumer;

import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Passes every event to several listeners in order; one listener's exception never keeps the others from it. */
final class ListenerFanOut implements WorkerListener {
    private static final Logger log = LoggerFactory.getLogger(ListenerFanOut.class);

    private final List<WorkerListener> listeners;

    ListenerFanOut(List<WorkerListener> listeners) {
        this.listeners = List.copyOf(listeners);
    }

    @Override
    public void onSettled(Settled event) {
        for (WorkerListener l : listeners) {
            try {
                l.onSettled(event);
            } catch (RuntimeException e) {
                log.warn("worker listener failed: {}", e.toString());
            }
        }
    }

    @Override
    public void onConsumingChanged(String queue, boolean paused, String why) {
        for (WorkerListener l : listeners) {
            try {
                l.onConsumingChanged(queue, paused, why);
            } catch (RuntimeException e) {
                log.warn("worker listener failed: {}", e.toString());
            }
        }
    }

    @Override
    public void onBreakerStateChanged(String queue, BreakerState state) {
        for (WorkerListener l : listeners) {
            try {
                l.onBreakerStateChanged(queue, state);
            } catch (RuntimeException e) {
                log.warn("worker listener failed: {}", e.toString());
            }
        }
    }

    @Override
    public void onFollowUpsPublished(String queue, String type, int count) {
        for (WorkerListener l : listeners) {
            try {
                l.onFollowUpsPublished(queue, type, count);
            } catch (RuntimeException e) {
                log.warn("worker listener failed: {}", e.toString());
            }
        }
    }

    @Override
    public void onJoinPublished(String queue, String type) {
        for (WorkerListener l : listeners) {
            try {
                l.onJoinPublished(queue, type);
            } catch (RuntimeException e) {
                log.warn("worker listener failed: {}", e.toString());
            }
        }
    }
}
