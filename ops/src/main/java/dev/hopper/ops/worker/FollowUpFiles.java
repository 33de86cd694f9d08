package dev.hopper.ops.worker;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Map;

/**
 * The two files one {@code --exec} run may write: {@code HOPPER_FOLLOW_UPS} (JSON lines, one follow-up each) and
 * {@code HOPPER_RESULT} (one JSON value), in a directory of their own readable only by this user, deleted with it
 * when the run is over. Not thread-safe: one per run.
 */
final class FollowUpFiles implements AutoCloseable {
    private final Path dir;
    private final Path followUps;
    private final Path result;

    private FollowUpFiles(Path dir) {
        this.dir = dir;
        this.followUps = dir.resolve("follow-ups.jsonl");
        this.result = dir.resolve("result.json");
    }

    static FollowUpFiles create() throws IOException {
        Path dir;
        try {
            dir = Files.createTempDirectory("hopper-exec-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (UnsupportedOperationException e) {
            dir = Files.createTempDirectory("hopper-exec-");
        }
        return new FollowUpFiles(dir);
    }

    /** The environment variables that name the files (the files themselves do not exist until written). */
    Map<String, String> environment() {
        return Map.of("HOPPER_FOLLOW_UPS", followUps.toString(), "HOPPER_RESULT", result.toString());
    }

    Path followUps() {
        return followUps;
    }

    Path result() {
        return result;
    }

    @Override
    public void close() throws IOException {
        Files.deleteIfExists(followUps);
        Files.deleteIfExists(result);
        Files.deleteIfExists(dir);
    }
}
