package dev.hopper.ops.topology;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.topology.VerificationReport;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class QuorumMembersTest {

    @Test
    void reportsFewerMembersThanTheGroupSizeAndOfflineMembers() throws Exception {
        // As rabbitmqctl 3.10 prints it with --formatter json; the classic queue has no member list.
        String json = "[\n{\"name\":\"uploads\",\"members\":[\"c1@h\",\"c2@h\",\"c3@h\"],\"online\":[\"c1@h\",\"c3@h\"]}\n"
                + ",{\"name\":\"uploads.dead\",\"members\":[\"c1@h\"],\"online\":[\"c1@h\"]}\n"
                + ",{\"name\":\"uploads.retry.5s\",\"members\":[\"c1@h\",\"c2@h\",\"c3@h\"],"
                + "\"online\":[\"c1@h\",\"c2@h\",\"c3@h\"]}\n"
                + ",{\"name\":\"classic\",\"members\":\"\",\"online\":\"\"}\n]\n";
        Map<String, QuorumMembers.Members> actual = new QuorumMembers().parse(json);
        assertThat(actual).containsOnlyKeys("uploads", "uploads.dead", "uploads.retry.5s");

        List<VerificationReport.Problem> problems = QuorumMembers.check(Map.of("uploads", 3, "uploads.dead", 3,
                "uploads.retry.5s", 3, "not-yet-declared", 3, "uploads.retry.30s", 3), actual,
                Set.of("not-yet-declared"));
        assertThat(problems).extracting(VerificationReport.Problem::describe).containsExactlyInAnyOrder(
                "queue 'uploads': members online is 2 (offline: c2@h), expected 3",
                "queue 'uploads.dead': members (under-replicated) is 1 [c1@h], expected 3",
                "queue 'uploads.retry.30s': members is unknown: rabbitmqctl did not list it (no leader? see "
                        + "'rabbitmq-queues quorum_status uploads.retry.30s'), expected 3");
    }

    @Test
    void nothingToReportWhenNoGroupSizeIsExpected() throws Exception {
        assertThat(QuorumMembers.check(Map.of(), new QuorumMembers().parse("[]"), Set.of())).isEmpty();
        assertThat(new QuorumMembers().parse("")).isEmpty();
    }
}
