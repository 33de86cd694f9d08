package dev.hopper.ops.worker;

import dev.hopper.consumer.TaskContext;
import dev.hopper.consumer.TaskHandler;

/** A plain {@code TaskHandler<byte[]>} for {@code --handler}: runs every type; does nothing. */
public final class SampleRawHandler implements TaskHandler<byte[]> {
    @Override
    public void handle(byte[] payload, TaskContext context) {
        // Registration is what the test checks.
    }
}
