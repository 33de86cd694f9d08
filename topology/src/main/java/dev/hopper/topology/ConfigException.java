package dev.hopper.topology;

/**
 * {@code hopper.yml} is invalid. The message starts with the path of the offending value, e.g.
 * {@code queues.uploads.retry.delays[2]: "5 minutes" is not a duration like 500ms, 30s, 5m, 1h, 1d}.
 */
public final class ConfigException extends HopperException {
    private static final long serialVersionUID = 1L;
    private final String path;

    public ConfigException(String path, String problem) {
        super(path.isEmpty() ? problem : path + ": " + problem);
        this.path = path;
    }

    /** Where in the document the problem is ({@code queues.uploads.retry.delays[2]}); empty for the root. */
    public String path() {
        return path;
    }
}
