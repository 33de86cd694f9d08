package dev.hopper.ops.group;

import static org.assertj.core.api.Assertions.assertThat;

import dev.hopper.coordination.GroupView;
import java.util.List;
import org.junit.jupiter.api.Test;

class GroupReportTest {

    @Test
    void namesTheDeadChildAndWhatHoldsTheJoin() {
        GroupView view = new GroupView("p-1", List.of(
                new GroupView.ChildView(0, "c-0", "thumbs", "resize", GroupView.State.DONE, null, true),
                new GroupView.ChildView(1, "c-1", "thumbs", "resize", GroupView.State.DEAD, "permanent", false),
                new GroupView.ChildView(2, "c-2", "thumbs", "resize", GroupView.State.PENDING, null, false)),
                new GroupView.JoinView("j-1", "reports", "merge", GroupView.JoinState.WAITING, null));
        GroupReport report = new GroupReport(view);

        assertThat(report.rows()).extracting(r -> r.get("role") + " " + r.get("id") + " " + r.get("state") + " "
                + r.get("reason") + " " + r.get("result")).containsExactly(
                        "child c-0 done null true", "child c-1 dead permanent null", "child c-2 pending null null",
                        "join j-1 waiting null null");
        assertThat(report.summary()).isEqualTo("parent p-1: 1 of 3 children done, 1 dead: c-1 (permanent); join j-1 "
                + "(merge on reports): held by 1 dead child (replay them with 'hopper dlq replay --queue QUEUE --id "
                + "ID')");
    }

    @Test
    void saysWhenTheJoinIsDoneOrAbsent() {
        GroupView.ChildView done = new GroupView.ChildView(0, "c-0", "q", "t", GroupView.State.DONE, null, false);
        assertThat(new GroupReport(new GroupView("p", List.of(done),
                new GroupView.JoinView("j", "q", "m", GroupView.JoinState.DONE, null))).summary())
                .endsWith("1 of 1 children done; join j (m on q): done");
        assertThat(new GroupReport(new GroupView("p", List.of(done), null)).summary()).endsWith("; no join");
    }
}
