package dev.hopper.ops.dlq;

import dev.hopper.ops.cli.ProgressLine;

/**
 * A replay's progress on stderr ({@link ProgressLine}), for replays of at least {@link #LARGE} dead letters.
 * Thread-safe (updates arrive from confirm callbacks).
 */
final class TtyProgress implements DeadLetterReplayer.Progress {
    /** Below this many dead letters a replay is over before a progress line would help. */
    static final long LARGE = 1000;

    private final ProgressLine line;

    TtyProgress(ProgressLine line) {
        this.line = line;
    }

    @Override
    public void update(long replayed, long selected, long depth) {
        if (depth < LARGE) {
            return;
        }
        line.update("replayed " + replayed + " of " + selected + " selected (" + depth + " dead letters)");
    }

    /** Ends the progress line, if one was printed. */
    void finish() {
        line.close();
    }
}
