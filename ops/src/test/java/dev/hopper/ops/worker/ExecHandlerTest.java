package dev.hopper.ops.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.hopper.consumer.PermanentTaskException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

@org.junit.jupiter.api.Timeout(120)
class ExecHandlerTest {
    private static final byte[] PAYLOAD = "{\"n\":1}".getBytes(StandardCharsets.UTF_8);
    private static final TaskInfo TASK = new TaskInfo("q1", "id-1", "thumb", "repo:42", 7L, 2, 99L);
    private static final TaskInfo BARE = new TaskInfo("q1", "id-2", "thumb", null, null, 0, null);

    @TempDir
    Path dir;
    private final List<ExecHandler> handlers = new java.util.ArrayList<>();

    private ExecHandler exec(String command) {
        ExecHandler h = new ExecHandler(command);
        handlers.add(h);
        return h;
    }

    @AfterEach
    void close() {
        handlers.forEach(ExecHandler::close);
    }

    @Test
    void exitZeroSucceedsAndThePayloadArrivesOnStdin() throws Exception {
        Path out = dir.resolve("stdin.json");
        exec("cat > '" + out + "'").run(PAYLOAD, TASK);
        assertThat(Files.readAllBytes(out)).isEqualTo(PAYLOAD);
    }

    @Test
    void exit75IsARetryableFailureWithTheStderrText() {
        assertThatThrownBy(() -> exec("echo 'database busy' >&2; exit 75").run(PAYLOAD, TASK))
                .isInstanceOf(CommandRetryException.class)
                .isNotInstanceOf(PermanentTaskException.class)
                .hasMessage("database busy");
    }

    @Test
    void exit126And127AreADeploymentErrorNotThePermanentFailureOfTheTask() {
        assertThatThrownBy(() -> exec("./no-such-script.sh").run(PAYLOAD, TASK))
                .isInstanceOfSatisfying(CommandNotRunnableException.class, e -> assertThat(e.exitStatus())
                        .isEqualTo(127))
                .isNotInstanceOf(PermanentTaskException.class)
                .hasMessageContaining("could not be run (exit 127)");
        assertThatThrownBy(() -> exec("exit 126").run(PAYLOAD, TASK))
                .isInstanceOf(CommandNotRunnableException.class)
                .isNotInstanceOf(PermanentTaskException.class);
    }

    @Test
    void otherExitsArePermanentWithTheStderrTailAsMessage() {
        assertThatThrownBy(() -> exec("echo first >&2; echo 'no such image' >&2; exit 1").run(PAYLOAD, TASK))
                .isInstanceOf(PermanentTaskException.class)
                .hasMessage("first\nno such image");
        assertThatThrownBy(() -> exec("exit 3").run(PAYLOAD, TASK))
                .isInstanceOf(PermanentTaskException.class)
                .hasMessage("command exited with status 3 and wrote nothing to stderr");
    }

    @Test
    void killingTheTreeOfAnExitedCommandLeavesItsStderrReadable() throws Exception {
        // The race behind a flaky "wrote nothing to stderr": the command exits, its group is killed, and only then
        // does the stderr reader (on another thread) get to the pipe. Process.destroy would have closed it.
        Process process = new ProcessBuilder(ExecHandler.sessionCommand("echo 'no such image' >&2; exit 1")).start();
        assertThat(process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();

        ExecHandler.killTree(process);

        assertThat(new String(process.getErrorStream().readAllBytes(), StandardCharsets.UTF_8))
                .isEqualTo("no such image\n");
    }

    @Test
    void theTaskIsDescribedInTheEnvironment() throws Exception {
        Path out = dir.resolve("env.txt");
        exec("env | grep '^HOPPER_' | sort > '" + out + "'").run(PAYLOAD, TASK);
        assertThat(Files.readAllLines(out)).containsExactly(
                "HOPPER_ATTEMPT=2", "HOPPER_FENCING_TOKEN=99", "HOPPER_KEY=repo:42", "HOPPER_MESSAGE_ID=id-1",
                "HOPPER_QUEUE=q1", "HOPPER_REVISION=7", "HOPPER_TYPE=thumb");
    }

    @Test
    void aCoalescedRunSaysHowManyPublishesItAbsorbed() {
        Map<String, String> env = new HashMap<>();
        ExecHandler.environment(env, new TaskInfo("q1", "id-3", "digest", "user:7", null, 0, 5L, 41L));
        assertThat(env).containsEntry("HOPPER_COALESCED", "41").containsEntry("HOPPER_KEY", "user:7");
    }

    @Test
    void unknownFactsAreAbsentEvenWhenTheWorkerEnvironmentHasThem() {
        Map<String, String> env = new HashMap<>(Map.of("HOPPER_KEY", "stale", "HOPPER_REVISION", "1",
                "HOPPER_FENCING_TOKEN", "5", "PATH", "/bin"));
        env.put("HOPPER_COALESCED", "9");
        ExecHandler.environment(env, BARE);
        assertThat(env).doesNotContainKeys("HOPPER_KEY", "HOPPER_REVISION", "HOPPER_FENCING_TOKEN", "HOPPER_COALESCED")
                .containsEntry("HOPPER_ATTEMPT", "0").containsEntry("HOPPER_MESSAGE_ID", "id-2")
                .containsEntry("PATH", "/bin");
    }

    @Test
    void theStderrTailIsBoundedAndKeepsTheEnd() {
        // 200 KB of noise, then the line that explains the failure.
        String cmd = "i=0; while [ $i -lt 2000 ]; do printf '%0100d\\n' $i >&2; i=$((i+1)); done; "
                + "echo 'the real reason' >&2; exit 1";
        AtomicReference<Throwable> thrown = new AtomicReference<>();
        try {
            exec(cmd).run(PAYLOAD, TASK);
        } catch (Exception e) {
            thrown.set(e);
        }
        assertThat(thrown.get()).isInstanceOf(PermanentTaskException.class);
        String message = thrown.get().getMessage();
        assertThat(message).startsWith("…").endsWith("the real reason");
        assertThat(message.getBytes(StandardCharsets.UTF_8).length)
                .isLessThanOrEqualTo(ExecHandler.STDERR_TAIL_BYTES + "…".getBytes(StandardCharsets.UTF_8).length);
    }

    @Test
    void aFloodOnStdoutAndAnUnreadStdinNeverBlockTheCommand() throws Exception {
        byte[] big = new byte[1024 * 1024];
        java.util.Arrays.fill(big, (byte) ' ');
        Path done = dir.resolve("done");
        // Writes 4 MB to stdout and never reads its 1 MB stdin: both pipes would fill if not drained. The marker
        // is written only after the flood went through, so a blocked pipe cannot pass.
        exec("head -c 4194304 /dev/zero; echo finished > '" + done + "'; exit 0").run(big, TASK);
        assertThat(Files.readString(done).strip()).isEqualTo("finished");
    }

    /** Waits for a pid written by the command, then returns it. */
    private static long pidFrom(Path file) throws Exception {
        await().atMost(Duration.ofSeconds(10)).until(() -> Files.exists(file) && Files.size(file) > 0
                && Files.readString(file).endsWith("\n"));
        return Long.parseLong(Files.readString(file).strip());
    }

    private static boolean gone(long pid) {
        return ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true);
    }

    private static CompletableFuture<Throwable> runInThread(ExecHandler h, List<Thread> threads) {
        CompletableFuture<Throwable> outcome = new CompletableFuture<>();
        Thread t = new Thread(() -> {
            try {
                h.run(PAYLOAD, TASK);
                outcome.complete(null);
            } catch (Throwable e) {
                outcome.complete(e);
            }
        });
        threads.add(t);
        t.start();
        return outcome;
    }

    @Test
    void aTimeoutKillsADetachedBackgroundChildToo() throws Exception {
        // Finding 12: "(sleep 301 &)" reparents sleep to init, out of the command's process tree.
        Path pidFile = dir.resolve("detached.pid");
        ExecHandler h = exec("(sleep 301 & echo $! > '" + pidFile + "'); sleep 100000");
        List<Thread> threads = new java.util.ArrayList<>();
        CompletableFuture<Throwable> outcome = runInThread(h, threads);
        long detached = pidFrom(pidFile);
        assertThat(gone(detached)).isFalse();
        threads.get(0).interrupt(); // what the worker does on a handler timeout
        assertThat(outcome.get(20, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> gone(detached));
    }

    @Test
    void aBackgroundChildLeftByASuccessfulCommandIsKilledAndLeaksNoReaderThread() throws Exception {
        // Finding 12 / issue 11 item 6: "sleep 302 & exit 0" kept the process and a reader blocked on its stderr.
        ExecHandler h = exec("sleep 302 & echo $! > '" + dir + "'/\"$HOPPER_MESSAGE_ID\"; exit 0");
        List<Long> pids = new java.util.ArrayList<>();
        for (int i = 0; i < 5; i++) {
            TaskInfo task = new TaskInfo("q1", "bg-" + i, "thumb", null, null, 0, null);
            Path pidFile = dir.resolve("bg-" + i);
            h.run(PAYLOAD, task);
            pids.add(pidFrom(pidFile));
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> pids.stream().allMatch(ExecHandlerTest::gone));
        await().atMost(Duration.ofSeconds(10)).until(() -> readersBlocked() == 0);
    }

    /** hopper-exec-io threads in a read (RUNNABLE in native code); idle pool threads wait instead. */
    private static long readersBlocked() {
        return Thread.getAllStackTraces().keySet().stream()
                .filter(t -> t.getName().startsWith("hopper-exec-io-") && t.getState() == Thread.State.RUNNABLE)
                .count();
    }

    @Test
    void closeKillsRunningCommandsAndTheirGroupsWithoutFailingTheTask() throws Exception {
        // Finding 4: a worker stopping past its drain must not leave --exec children running.
        Path pidFile = dir.resolve("running.pid");
        ExecHandler h = exec("(sleep 303 & echo $! > '" + pidFile + "'); sleep 100000");
        List<Thread> threads = new java.util.ArrayList<>();
        CompletableFuture<Throwable> outcome = runInThread(h, threads);
        long child = pidFrom(pidFile);
        await().atMost(Duration.ofSeconds(10)).until(() -> h.running() == 1);
        h.close();
        assertThat(gone(child)).as("killed and waited for by close()").isTrue();
        assertThat(outcome.get(20, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        assertThat(h.running()).isZero();
    }

    @Test
    void anInterruptKillsTheWholeProcessTreeAndPropagates() throws Exception {
        Path pidFile = dir.resolve("child.pid");
        List<Thread> threads = new java.util.ArrayList<>();
        CompletableFuture<Throwable> outcome = runInThread(exec("sleep 30 & echo $! > '" + pidFile + "'; wait"),
                threads);
        long childPid = pidFrom(pidFile);
        assertThat(gone(childPid)).isFalse();
        threads.get(0).interrupt();
        assertThat(outcome.get(10, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(InterruptedException.class);
        await().atMost(Duration.ofSeconds(10)).until(() -> gone(childPid));
    }

    @Test
    void stderrTailKeepsTheLastBytesAcrossChunks() {
        ExecHandler.StderrTail tail = new ExecHandler.StderrTail(5);
        tail.append("abc".getBytes(StandardCharsets.UTF_8), 3);
        assertThat(tail.text()).isEqualTo("abc");
        tail.append("defg".getBytes(StandardCharsets.UTF_8), 4);
        assertThat(tail.text()).isEqualTo("…cdefg");
        tail.append("0123456".getBytes(StandardCharsets.UTF_8), 7);
        assertThat(tail.text()).isEqualTo("…23456");
    }
}
