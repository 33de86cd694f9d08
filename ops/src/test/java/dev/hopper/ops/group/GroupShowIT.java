package dev.hopper.ops.group;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.hopper.coordination.GroupPlan;
import dev.hopper.coordination.JoinTask;
import dev.hopper.coordination.RedisCoordinationStore;
import dev.hopper.coordination.RedisStoreConfig;
import dev.hopper.ops.cli.HopperCommand;
import dev.hopper.topology.testing.TestRedis;
import io.lettuce.core.RedisClient;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** {@code hopper group show} against the shared Redis, on a group written through the store. */
class GroupShowIT {
    private final String parent = "group-show-it-" + UUID.randomUUID();
    private final URI redis = TestRedis.get().uri();

    record Run(int code, String out, String err) {}

    private static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = HopperCommand.execute(new PrintWriter(out), new PrintWriter(err), args);
        return new Run(code, out.toString(), err.toString());
    }

    @AfterEach
    void deleteKeys() {
        RedisClient client = RedisClient.create(redis.toString());
        try (var c = client.connect()) {
            for (String k : List.of("group:", "group-members:", "group-results:", "group-dead:")) {
                c.sync().del("hopper:" + k + parent);
            }
            for (int i = 0; i < 3; i++) {
                c.sync().del("hopper:done:" + parent + "-c" + i);
            }
        } finally {
            client.shutdown();
        }
    }

    @Test
    void showsEachChildsStateAndNamesTheDeadOneAsTextAndJson() throws Exception {
        try (RedisCoordinationStore store = new RedisCoordinationStore(RedisStoreConfig.builder(redis).build())) {
            List<GroupPlan.Child> children = new ArrayList<>();
            for (int i = 0; i < 3; i++) {
                children.add(new GroupPlan.Child(parent + "-c" + i, "thumbs", "resize"));
            }
            store.openGroup(new GroupPlan(parent, children, new JoinTask(parent + "-j", "reports", "merge", null,
                    "{}"), Duration.ofMinutes(5)));
            store.completeChild(parent, parent + "-c0", "{\"n\":0}", Duration.ofMinutes(5));
            store.childDead(parent, parent + "-c1", "permanent");
        }

        Run text = run("--redis", redis.toString(), "group", "show", parent);
        assertThat(text.code()).as(text.err()).isZero();
        assertThat(text.out()).contains("ROLE").contains(parent + "-c1").contains("dead").contains("permanent")
                .contains("1 of 3 children done, 1 dead: " + parent + "-c1 (permanent)")
                .contains("held by 1 dead child");

        Run json = run("--redis", redis.toString(), "--json", "group", "show", parent);
        assertThat(json.code()).isZero();
        List<JsonNode> rows = new ArrayList<>();
        for (String line : json.out().split("\\R")) {
            rows.add(new ObjectMapper().readTree(line));
        }
        assertThat(rows).extracting(r -> r.get("role").asText() + ":" + r.get("state").asText())
                .containsExactly("child:done", "child:dead", "child:pending", "join:waiting");
        assertThat(rows.get(1).get("reason").asText()).isEqualTo("permanent");
        assertThat(rows.get(0).get("result").asBoolean()).isTrue();
    }

    @Test
    void anUnknownParentIsOneLineAndExitOne() {
        Run r = run("--redis", redis.toString(), "group", "show", parent);
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err().strip()).startsWith("hopper: no follow-up group for parent " + parent).doesNotContain("\n");
        assertThat(r.out()).isEmpty();
    }
}
