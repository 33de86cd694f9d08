package dev.hopper.ops.topology;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.topology.HopperException;
import dev.hopper.topology.TaskJson;
import dev.hopper.topology.VerificationReport;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Counts the replicas of quorum queues, for {@code topology verify --rabbitmqctl-node}. AMQP does not tell how many
 * members a quorum queue has, and RabbitMQ 3.10 without the management plugin tells it only to its CLI, so this
 * runs {@code rabbitmqctl -n NODE list_queues -p VHOST name members online --formatter json} on this machine (it
 * needs {@code rabbitmqctl} on the PATH and the cluster's Erlang cookie in {@code $HOME/.erlang.cookie}). A queue is
 * under-replicated when it has fewer members than its configured group size, and degraded when a member is not
 * online. Stateless.
 */
final class QuorumMembers {
    /** One queue's members and the members online now (node names). */
    record Members(List<String> members, List<String> online) {}

    private static final Duration TIMEOUT = Duration.ofSeconds(60);
    private final ObjectMapper mapper = TaskJson.newMapper();

    /**
     * Asks {@code node} for every queue of {@code vhost}.
     *
     * @throws HopperException when rabbitmqctl cannot be run, fails, or does not answer within a minute
     */
    Map<String, Members> list(String rabbitmqctl, String node, String vhost) {
        Path out = null;
        Path err = null;
        try {
            out = Files.createTempFile("hopper-members", ".json");
            err = Files.createTempFile("hopper-members", ".err");
            List<String> cmd = List.of(rabbitmqctl, "-q", "-n", node, "list_queues", "-p", vhost, "name", "members",
                    "online", "--formatter", "json");
            Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).start();
            if (!p.waitFor(TIMEOUT.toSeconds(), TimeUnit.SECONDS)) {
                p.destroyForcibly().waitFor(5, TimeUnit.SECONDS);
                throw new HopperException(String.join(" ", cmd) + " did not answer within " + TIMEOUT.toSeconds()
                        + "s");
            }
            if (p.exitValue() != 0) {
                String why = Files.readString(err, StandardCharsets.UTF_8).strip().lines().findFirst().orElse("");
                throw new HopperException(String.join(" ", cmd) + " failed (exit " + p.exitValue() + "): " + why
                        + " (is the cluster's Erlang cookie in $HOME/.erlang.cookie?)");
            }
            return parse(Files.readString(out, StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new HopperException("cannot run " + rabbitmqctl + " to count quorum members: " + e.getMessage(),
                    e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new HopperException("interrupted while counting quorum members", e);
        } finally {
            deleteQuietly(out);
            deleteQuietly(err);
        }
    }

    /** rabbitmqctl's JSON (an array of {name, members, online}); classic queues have no members and are skipped. */
    Map<String, Members> parse(String json) throws IOException {
        Map<String, Members> out = new LinkedHashMap<>();
        JsonNode root = mapper.readTree(json.isBlank() ? "[]" : json);
        for (JsonNode q : root) {
            JsonNode members = q.path("members");
            if (!members.isArray()) {
                continue;
            }
            out.put(q.path("name").asText(), new Members(names(members), names(q.path("online"))));
        }
        return out;
    }

    /**
     * The problems: a queue with fewer members than {@code expected} says, a queue with a member offline, and a
     * queue the broker did not list although it exists (rabbitmqctl leaves out a quorum queue that has no leader:
     * a majority of its members is down, so it takes and gives nothing). Queues in {@code missing} are left to the
     * declaration check, which reports them missing.
     */
    static List<VerificationReport.Problem> check(Map<String, Integer> expected, Map<String, Members> actual,
            java.util.Set<String> missing) {
        List<VerificationReport.Problem> problems = new ArrayList<>();
        expected.forEach((queue, size) -> {
            Members m = actual.get(queue);
            String object = "queue '" + queue + "'";
            if (m == null) {
                if (!missing.contains(queue)) {
                    problems.add(new VerificationReport.Problem(object, "members", String.valueOf(size),
                            "unknown: rabbitmqctl did not list it (no leader? see 'rabbitmq-queues quorum_status "
                                    + queue + "')"));
                }
                return;
            }
            if (m.members().size() < size) {
                problems.add(new VerificationReport.Problem(object, "members (under-replicated)",
                        String.valueOf(size), m.members().size() + " " + m.members()));
            }
            List<String> offline = new ArrayList<>(m.members());
            offline.removeAll(m.online());
            if (!offline.isEmpty()) {
                problems.add(new VerificationReport.Problem(object, "members online",
                        String.valueOf(m.members().size()), m.online().size() + " (offline: "
                                + String.join(", ", offline) + ")"));
            }
        });
        return problems;
    }

    private static List<String> names(JsonNode array) {
        List<String> out = new ArrayList<>();
        array.forEach(n -> out.add(n.asText()));
        return List.copyOf(out);
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // A temp file left behind is harmless; the answer was already read.
            }
        }
    }
}
