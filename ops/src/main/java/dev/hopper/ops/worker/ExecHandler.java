package dev.hopper.ops.worker;

import static java.util.Objects.requireNonNull;

import dev.hopper.consumer.TaskContext;
import dev.hopper.consumer.TaskHandler;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.jspecify.annotations.Nullable;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code hopper worker --exec CMD}: runs {@code CMD} through {@code /bin/sh -c} once per task, with the payload
 * (the task's JSON body as it arrived) on stdin and the task's facts in the environment:
 * {@code HOPPER_MESSAGE_ID}, {@code HOPPER_TYPE}, {@code HOPPER_QUEUE}, {@code HOPPER_ATTEMPT} (runs before this
 * one: 0 on the first run), and, only when the task has them, {@code HOPPER_KEY}, {@code HOPPER_REVISION} and
 * {@code HOPPER_FENCING_TOKEN}, and for a coalesced run {@code HOPPER_COALESCED} (publishes it absorbed besides its
 * own; the payload on stdin is the latest of them) (otherwise absent, even if the worker's own environment has
 * them).
 *
 * <p>Exit status: 0 is success; 75 ({@code EX_TEMPFAIL} of sysexits.h) is a retryable failure; 126 and 127 (the
 * shell could not execute or find the command) are a deployment error, not the task's fault
 * ({@link CommandNotRunnableException}: never dead-lettered); anything else is a permanent failure and the task is
 * dead-lettered at once. The last {@value #STDERR_TAIL_BYTES} bytes of stderr
 * become the failure's message (and so {@code x-hopper-error-message}). Stdout is drained so the command can never
 * block on a full pipe, and discarded (logged at DEBUG when that level is on).
 *
 * <p>Follow-ups: with follow-ups enabled ({@link #ExecHandler(String, FollowUpLines)}) the command also gets
 * {@code HOPPER_FOLLOW_UPS}, a file to append follow-ups to as JSON lines, and {@code HOPPER_RESULT}, a file to write
 * its result for its parent's join to ({@link FollowUpLines} has the format). They are read only after exit 0; a bad
 * line fails the task permanently and nothing is published.
 *
 * <p>Process groups: each command runs in a session (and so a process group) of its own ({@code setsid}), so
 * everything it starts, including background children that detach from it ({@code (sleep 300 &)}), can be killed
 * together. A task's processes never outlive its run: when the command exits, whatever it left running in its
 * group is killed with SIGKILL (a background child would otherwise hold the stderr pipe and a reader thread, and
 * run on after the task was acknowledged). When the worker interrupts the run (handler timeout, lost lock,
 * shutdown past the drain) the whole group is killed, waited for (up to {@value #KILL_WAIT_MS} ms) and the
 * interrupt propagates. A child that starts a session of its own escapes the group; it is still killed if it is
 * a live descendant at that moment.
 *
 * <p>Thread-safe: one instance serves all of a worker's handler threads. {@link #close()} kills every command
 * still running (the worker's shutdown past its drain), waits for them with a bound, and stops the pipe threads.
 */
final class ExecHandler implements TaskHandler<byte[]>, AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ExecHandler.class);
    static final int EX_TEMPFAIL = 75;
    /** The shell found the command but could not execute it (permissions, bad interpreter line). */
    static final int SH_CANNOT_EXECUTE = 126;
    /** The shell did not find the command. */
    static final int SH_NOT_FOUND = 127;
    /** Below the 2048-character bound of x-hopper-error-message, so the tail (the useful end) is never cut. */
    static final int STDERR_TAIL_BYTES = 2000;
    /** How long to wait for the stderr pipe after the command exited (a background child may hold it open). */
    private static final long PIPE_GRACE_MS = 1000;
    /** How long to wait for a killed process group to be gone. */
    static final long KILL_WAIT_MS = 5000;
    private static final String SETSID = "/usr/bin/setsid";

    private final String command;
    private final ExecutorService pipes;
    private final @Nullable FollowUpLines followUps;
    /** Commands running now, so {@link #close()} can kill them: one entry per handler thread at most. */
    private final Set<Process> running = ConcurrentHashMap.newKeySet();
    private volatile boolean closed;

    ExecHandler(String command) {
        this(command, null);
    }

    /** @param followUps reads the command's follow-ups and result; null: the command gets no follow-up files */
    ExecHandler(String command, @Nullable FollowUpLines followUps) {
        this.followUps = followUps;
        this.command = requireNonNull(command, "command");
        if (command.isBlank()) {
            throw new IllegalArgumentException("--exec needs a command");
        }
        AtomicInteger n = new AtomicInteger();
        this.pipes = Executors.newCachedThreadPool(r -> {
            Thread t = new Thread(r, "hopper-exec-io-" + n.incrementAndGet());
            t.setDaemon(true);
            return t;
        });
    }

    @Override
    public void handle(byte[] payload, TaskContext context) throws Exception {
        FollowUpLines lines = followUps;
        if (lines == null) {
            run(payload, TaskInfo.of(context));
            return;
        }
        try (FollowUpFiles files = FollowUpFiles.create()) {
            run(payload, TaskInfo.of(context), files.environment());
            lines.read(files.followUps(), files.result()).handTo(context);
        }
    }

    /**
     * Runs the command for one task.
     *
     * @throws CommandRetryException on exit 75
     * @throws CommandFailedException on any other non-zero exit
     * @throws InterruptedException when interrupted; the process tree is killed first
     * @throws IOException when the command cannot be started (retried: e.g. too many open files)
     */
    void run(byte[] payload, TaskInfo task) throws InterruptedException, IOException {
        run(payload, task, Map.of());
    }

    /** {@link #run(byte[], TaskInfo)} with {@code extraEnvironment} (the follow-up files) added. */
    void run(byte[] payload, TaskInfo task, Map<String, String> extraEnvironment)
            throws InterruptedException, IOException {
        if (closed) {
            throw new InterruptedException("the worker is shutting down; command not started");
        }
        ProcessBuilder pb = new ProcessBuilder(sessionCommand(command));
        environment(pb.environment(), task);
        pb.environment().putAll(extraEnvironment);
        boolean logStdout = log.isDebugEnabled();
        pb.redirectOutput(logStdout ? ProcessBuilder.Redirect.PIPE : ProcessBuilder.Redirect.DISCARD);
        Process process = pb.start();
        running.add(process);
        try {
            runStarted(process, payload, task, logStdout);
        } finally {
            running.remove(process);
        }
    }

    /**
     * {@code setsid /bin/sh -c CMD}: a child of the JVM is never a process-group leader, so setsid makes the shell
     * a session and group leader without forking: its pid is the group id.
     */
    static List<String> sessionCommand(String command) {
        if (new java.io.File(SETSID).canExecute()) {
            return List.of(SETSID, "/bin/sh", "-c", command);
        }
        return List.of("/bin/sh", "-c", command);
    }

    private void runStarted(Process process, byte[] payload, TaskInfo task, boolean logStdout)
            throws InterruptedException {
        StderrTail tail = new StderrTail(STDERR_TAIL_BYTES);
        Future<?> stderr = pipes.submit(() -> tail.readFrom(process.getErrorStream()));
        if (logStdout) {
            pipes.submit(() -> logLines(process.getInputStream(), task.messageId()));
        }
        // On its own thread: a command that does not read stdin must not block us on a full pipe.
        pipes.submit(() -> writeStdin(process, payload));
        int exit;
        try {
            exit = process.waitFor();
            // Whatever the command left running in its group dies with the task (and releases the stderr pipe).
            killTree(process);
            awaitPipe(stderr);
        } catch (InterruptedException e) {
            killTree(process);
            throw e;
        }
        if (closed) {
            // close() killed it (worker shutdown): not the task's failure, so never a dead letter.
            throw new InterruptedException("the worker shut down while the command ran (exit " + exit + ")");
        }
        if (exit == 0) {
            return;
        }
        String err = tail.text();
        String message = err.isEmpty() ? "command exited with status " + exit + " and wrote nothing to stderr" : err;
        log.debug("exec command failed id={} type={} exit={}", task.messageId(), task.type(), exit);
        if (exit == EX_TEMPFAIL) {
            throw new CommandRetryException(message);
        }
        if (exit == SH_CANNOT_EXECUTE || exit == SH_NOT_FOUND) {
            throw new CommandNotRunnableException(exit, message);
        }
        throw new CommandFailedException(message);
    }

    static void environment(Map<String, String> env, TaskInfo task) {
        env.put("HOPPER_MESSAGE_ID", task.messageId());
        env.put("HOPPER_TYPE", task.type());
        env.put("HOPPER_QUEUE", task.queue());
        env.put("HOPPER_ATTEMPT", Integer.toString(task.attempt()));
        putOrRemove(env, "HOPPER_KEY", task.key());
        putOrRemove(env, "HOPPER_REVISION", task.revision());
        putOrRemove(env, "HOPPER_FENCING_TOKEN", task.fencingToken());
        putOrRemove(env, "HOPPER_COALESCED", task.coalesced());
    }

    private static void putOrRemove(Map<String, String> env, String name, @Nullable Object value) {
        if (value == null) {
            env.remove(name);
        } else {
            env.put(name, value.toString());
        }
    }

    /**
     * SIGKILL to the command's process group and to every live descendant (seen first, so none is orphaned
     * unseen), then waits up to {@value #KILL_WAIT_MS} ms for the command and those descendants to be gone.
     */
    static void killTree(Process process) {
        List<ProcessHandle> descendants = process.descendants().collect(Collectors.toList());
        // Children that left the tree ("(sleep 300 &)" is reparented to init) are still in the group.
        List<ProcessHandle> group = groupMembers(process.pid());
        killGroup(process.pid());
        if (process.isAlive()) {
            // Not on a command that already exited: Process.destroy also closes its pipes, and the stderr reader
            // may not have drained them yet (the dead letter then said "wrote nothing to stderr").
            process.destroyForcibly();
        }
        descendants.forEach(ProcessHandle::destroyForcibly);
        long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(KILL_WAIT_MS);
        List<ProcessHandle> all = new java.util.ArrayList<>(descendants);
        all.addAll(group);
        all.add(process.toHandle());
        for (ProcessHandle h : all) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                break;
            }
            try {
                h.onExit().get(left, TimeUnit.NANOSECONDS);
            } catch (TimeoutException | ExecutionException e) {
                log.warn("process {} of an --exec command survived SIGKILL for {}ms", h.pid(), KILL_WAIT_MS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    /**
     * The live processes of process group {@code pgid}, read from {@code /proc/<pid>/stat} (Linux); empty where
     * there is no {@code /proc}. Used to wait for group members that are no longer descendants.
     */
    static List<ProcessHandle> groupMembers(long pgid) {
        List<ProcessHandle> members = new java.util.ArrayList<>();
        java.io.File[] entries = new java.io.File("/proc").listFiles((d, name) -> name.chars().allMatch(Character::isDigit));
        if (entries == null) {
            return members;
        }
        for (java.io.File e : entries) {
            try {
                String stat = java.nio.file.Files.readString(e.toPath().resolve("stat"));
                // "pid (comm) state ppid pgrp ...": comm may hold spaces and parentheses, so split after the last ')'
                String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
                if (f.length > 2 && Long.parseLong(f[2]) == pgid) {
                    ProcessHandle.of(Long.parseLong(e.getName())).ifPresent(members::add);
                }
            } catch (IOException | RuntimeException gone) {
                // The process ended while we looked: nothing to wait for.
            }
        }
        return members;
    }

    /** {@code kill -KILL -- -PGID}: the whole group, including children that left the command's tree. */
    private static void killGroup(long pgid) {
        try {
            Process kill = new ProcessBuilder("kill", "-KILL", "--", "-" + pgid)
                    .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            if (!kill.waitFor(KILL_WAIT_MS, TimeUnit.MILLISECONDS)) {
                kill.destroyForcibly();
            }
            // Exit 1 when the group is already empty: nothing left to kill.
        } catch (IOException e) {
            log.warn("cannot run kill for process group {}: {}", pgid, e.toString());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void awaitPipe(Future<?> reader) throws InterruptedException {
        try {
            reader.get(PIPE_GRACE_MS, TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            // Only a child that started a session of its own (and so left the group) can still hold stderr.
            reader.cancel(true);
        } catch (ExecutionException e) {
            log.debug("reading the command's stderr failed: {}", e.getCause().toString());
        }
    }

    private static void writeStdin(Process process, byte[] payload) {
        try (OutputStream in = process.getOutputStream()) {
            in.write(payload);
        } catch (IOException e) {
            // The command closed stdin without reading it all: its choice, not an error.
            log.trace("command did not read all of stdin: {}", e.toString());
        }
    }

    private static void logLines(InputStream stdout, String messageId) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(stdout, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                log.debug("exec stdout id={} {}", messageId, line);
            }
        } catch (IOException e) {
            log.trace("stdout closed: {}", e.toString());
        }
    }

    /** Commands running right now (for tests and the shutdown report). */
    int running() {
        return running.size();
    }

    /**
     * Kills every command still running (their whole process groups) and waits for them, up to
     * {@value #KILL_WAIT_MS} ms each; later runs are refused. Then stops the pipe threads.
     */
    @Override
    public void close() {
        closed = true;
        for (Process p : List.copyOf(running)) {
            killTree(p);
        }
        pipes.shutdownNow();
    }

    /** Keeps the last {@code max} bytes of a stream. Written by one reader thread, read after it finished. */
    static final class StderrTail {
        private final byte[] buffer;
        private int length;
        private boolean truncated;

        StderrTail(int max) {
            this.buffer = new byte[max];
        }

        void readFrom(InputStream in) {
            byte[] chunk = new byte[4096];
            try (in) {
                int n;
                while ((n = in.read(chunk)) >= 0) {
                    append(chunk, n);
                }
            } catch (IOException e) {
                log.trace("stderr closed: {}", e.toString());
            }
        }

        synchronized void append(byte[] chunk, int n) {
            int max = buffer.length;
            if (n >= max) {
                System.arraycopy(chunk, n - max, buffer, 0, max);
                truncated |= length > 0 || n > max;
                length = max;
                return;
            }
            int overflow = length + n - max;
            if (overflow > 0) {
                System.arraycopy(buffer, overflow, buffer, 0, length - overflow);
                length -= overflow;
                truncated = true;
            }
            System.arraycopy(chunk, 0, buffer, length, n);
            length += n;
        }

        /** The tail as text, trimmed; starts with an ellipsis when earlier output was cut. */
        synchronized String text() {
            String s = new String(buffer, 0, length, StandardCharsets.UTF_8).strip();
            return truncated && !s.isEmpty() ? "…" + s : s;
        }
    }
}
