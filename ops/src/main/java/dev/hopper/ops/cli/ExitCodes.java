package dev.hopper.ops.cli;

/** The {@code hopper} command's exit codes (design.md): the only values it ever returns. */
public final class ExitCodes {
    public static final int OK = 0;
    /** The work failed: broker unreachable, a publish not confirmed, a topology difference, nothing found. */
    public static final int FAILURE = 1;
    /** The command line is wrong: unknown flag, missing required option, malformed value. */
    public static final int USAGE = 2;

    private ExitCodes() {}
}
