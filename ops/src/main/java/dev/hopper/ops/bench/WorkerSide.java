package dev.hopper.ops.bench;

/**
 * The consuming half of a run: one worker in this JVM ({@link InProcessWorker}) or worker JVMs
 * ({@link WorkerJvms}). Used by one thread (the benchmark's), except {@link #completed()}, which any thread may
 * call.
 */
interface WorkerSide extends AutoCloseable {

    /** Starts consuming; returns once every worker consumes and its start-of-run heap and CPU are recorded. */
    void start();

    /**
     * Forgets the warm-up: resets the counts and latencies and records the start-of-run heap and CPU again. Call
     * only when every warm-up task completed.
     */
    void resetMeasurements();

    /** Tasks completed so far (successful settlements, after the ack). */
    long completed();

    /** Records end-of-run heap and CPU, stops the workers and returns what they measured. */
    WorkerStats finish();

    /** Releases everything; idempotent, never throws. Stops workers that {@link #finish()} did not. */
    @Override
    void close();
}
