package dev.hopper.topology;

import java.util.List;
import java.util.stream.Collectors;

/**
 * {@code hopper.yml} is invalid. The message starts with the path of the offending value, e.g.
 * {@code queues.uploads.retry.delays[2]: "5 minutes" is not a duration like 500ms, 30s, 5m, 1h, 1d}. When the
 * document has several problems, one exception carries them all ({@link #problems()}) and its message lists them.
 */
public final class ConfigException extends HopperException {
    private static final long serialVersionUID = 1L;
    private final String path;
    private final List<ConfigException> problems;

    public ConfigException(String path, String problem) {
        super(path.isEmpty() ? problem : path + ": " + problem);
        this.path = path;
        this.problems = List.of(this);
    }

    private ConfigException(List<ConfigException> problems) {
        super(problems.size() + " problems: " + problems.stream().map(Throwable::getMessage)
                .collect(Collectors.joining("; ")));
        this.path = problems.get(0).path();
        this.problems = List.copyOf(problems);
    }

    /** One exception for {@code problems} (at least one): the problem itself when there is only one. */
    public static ConfigException of(List<ConfigException> problems) {
        if (problems.isEmpty()) {
            throw new IllegalArgumentException("no problems");
        }
        return problems.size() == 1 ? problems.get(0) : new ConfigException(problems);
    }

    /** Every problem found, in document order; a list of this one alone for a single problem. */
    public List<ConfigException> problems() {
        return problems;
    }

    /** Where in the document the (first) problem is ({@code queues.uploads.retry.delays[2]}); empty for the root. */
    public String path() {
        return path;
    }
}
