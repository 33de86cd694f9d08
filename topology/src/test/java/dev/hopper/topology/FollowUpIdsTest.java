package dev.hopper.topology;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.HashSet;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class FollowUpIdsTest {

    @Test
    void theSameParentAndIndexGiveTheSameId() {
        assertThat(FollowUpIds.of("parent-1", 3)).isEqualTo(FollowUpIds.of("parent-1", 3));
    }

    @Test
    void idsArePinnedAcrossReleases() {
        // Workers of different versions must derive the same ids while a graph runs across an upgrade.
        assertThat(FollowUpIds.of("parent-1", 0)).isEqualTo(UUID.nameUUIDFromBytes(
                "hopper/follow-up/8:parent-1/0".getBytes(java.nio.charset.StandardCharsets.UTF_8)).toString());
    }

    @Test
    void idsAreNameBasedUuids() {
        UUID id = UUID.fromString(FollowUpIds.of("parent-1", 0));
        assertThat(id.version()).isEqualTo(3);
    }

    @Test
    void everyParentAndIndexGetsItsOwnId() {
        Set<String> ids = new HashSet<>();
        for (String parent : new String[] {"a", "a/1", "a/", "b"}) {
            for (int i = 0; i < 1000; i++) {
                ids.add(FollowUpIds.of(parent, i));
            }
        }
        for (String parent : new String[] {"a", "a/1", "a/", "b"}) {
            ids.add(FollowUpIds.join(parent));
        }
        assertThat(ids).hasSize(4004);
        assertThat(FollowUpIds.join("a")).isEqualTo(FollowUpIds.join("a"));
    }

    @Test
    void refusesNegativeIndexAndBlankParent() {
        assertThatThrownBy(() -> FollowUpIds.of("p", -1)).hasMessageContaining("index must be >= 0");
        assertThatThrownBy(() -> FollowUpIds.of(" ", 0)).hasMessageContaining("parentId");
    }
}
