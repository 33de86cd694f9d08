package dev.hopper.ops.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import org.jspecify.annotations.Nullable;

/**
 * Checks at start that an {@code --exec} command can run at all, so that a typo or a missing script is a usage
 * error (exit 2) rather than every task failing. Only the program is checked (the first word after any
 * {@code NAME=value} assignments): a path must be an executable file, a bare name must be something
 * {@code /bin/sh} can run (a builtin, keyword, or a program on {@code PATH}, asked with {@code command -v}). A
 * command whose first word is computed ({@code $CMD}, quotes, subshells) is not checked.
 */
final class ExecCommandCheck {
    private static final Pattern ASSIGNMENT = Pattern.compile("[A-Za-z_][A-Za-z0-9_]*=\\S*");
    private static final Pattern PLAIN_WORD = Pattern.compile("[A-Za-z0-9_./+:@%,\\[-]+");

    private ExecCommandCheck() {}

    /** What is wrong with {@code command}, or empty when it looks runnable (or cannot be judged). */
    static Optional<String> problem(String command, Path workingDir) {
        String program = program(command);
        if (program == null) {
            return Optional.empty();
        }
        if (program.contains("/")) {
            Path p = workingDir.resolve(program);
            if (!Files.exists(p)) {
                return Optional.of("--exec: " + program + " does not exist (relative to " + workingDir + ")");
            }
            if (Files.isDirectory(p) || !Files.isExecutable(p)) {
                return Optional.of("--exec: " + program + " is not an executable file (chmod +x it, or run it "
                        + "with its interpreter, e.g. 'sh " + program + "')");
            }
            return Optional.empty();
        }
        try {
            Process p = new ProcessBuilder("/bin/sh", "-c", "command -v -- \"$1\" >/dev/null 2>&1", "sh", program)
                    .redirectErrorStream(true).start();
            if (!p.waitFor(10, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                return Optional.empty(); // cannot tell; the first task will
            }
            return p.exitValue() == 0 ? Optional.empty()
                    : Optional.of("--exec: command not found: " + program + " (not a shell builtin and not on PATH)");
        } catch (IOException e) {
            return Optional.of("--exec: cannot start /bin/sh to run commands: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Optional.empty();
        }
    }

    /** The program word of a shell command, or null when it is not a plain word. */
    static @Nullable String program(String command) {
        for (String word : command.trim().split("\\s+")) {
            if (ASSIGNMENT.matcher(word).matches()) {
                continue;
            }
            return PLAIN_WORD.matcher(word).matches() ? word : null;
        }
        return null;
    }
}
