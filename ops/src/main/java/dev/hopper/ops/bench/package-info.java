/**
 * {@code hopper bench}: end-to-end throughput and latency of the whole pipeline (confirmed publish, worker, lock and
 * revision check, handler, late ack) on a real broker. {@link dev.hopper.ops.bench.BenchCommand} parses options
 * into a {@code BenchSettings}; {@code Benchmark} runs it (in-process, or with worker JVMs started from
 * {@link dev.hopper.ops.bench.BenchWorkerMain}) and returns a {@code BenchReport}.
 */
@NullMarked
package dev.hopper.ops.bench;

import org.jspecify.annotations.NullMarked;
