package dev.hopper.ops.worker;

import dev.hopper.consumer.TaskHandler;

/**
 * The plug-in point for {@code hopper worker --handler CLASS} and {@code --discover}: a user's jar implements this
 * to run its own handlers for named task types, each with its payload class (read from the JSON body with
 * Jackson), with no code of its own to start a worker.
 *
 * <p>Implementations need a public no-argument constructor. For {@code --discover}, list the class in the jar's
 * {@code META-INF/services/dev.hopper.ops.worker.HandlerProvider} (standard {@link java.util.ServiceLoader});
 * for {@code --handler}, name it. Add the jar with {@code --classpath}. A class named by {@code --handler} may
 * also be a plain {@code TaskHandler<byte[]>}: it then runs every task type with the raw JSON body.
 *
 * <pre>{@code
 * public final class BillingHandlers implements HandlerProvider {
 *     public void register(Registry registry) {
 *         registry.handler("invoice.send", Invoice.class, (invoice, ctx) -> mailer.send(invoice));
 *     }
 * }
 * }</pre>
 *
 * <p>{@link #register} is called once, on the starting thread, before the worker consumes anything. The
 * handlers then run concurrently on worker threads (see {@link TaskHandler}).
 */
public interface HandlerProvider {

    /** Registers this provider's handlers. */
    void register(Registry registry);

    /** Where a provider registers its handlers. */
    interface Registry {
        /**
         * Runs {@code handler} for tasks of {@code type}.
         *
         * @throws IllegalArgumentException when {@code type} already has a handler (from this or another provider)
         */
        <T> Registry handler(String type, Class<T> payloadType, TaskHandler<T> handler);
    }
}
