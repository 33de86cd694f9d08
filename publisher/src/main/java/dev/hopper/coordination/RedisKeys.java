package dev.hopper.coordination;

/** The Redis key layout of one namespace, as documented on {@link RedisCoordinationStore}. */
record RedisKeys(String namespace) {
    String revision(String key) {
        return namespace + "rev:" + key;
    }

    String lock(String key) {
        return namespace + "lock:" + key;
    }

    String token(String key) {
        return namespace + "token:" + key;
    }

    String done(String messageId) {
        return namespace + "done:" + messageId;
    }

    /** A parent's follow-up group: plan, counters and join (see {@link RedisFollowUps}). */
    String group(String parentId) {
        return namespace + "group:" + parentId;
    }

    String groupMembers(String parentId) {
        return namespace + "group-members:" + parentId;
    }

    String groupResults(String parentId) {
        return namespace + "group-results:" + parentId;
    }

    String groupDead(String parentId) {
        return namespace + "group-dead:" + parentId;
    }
}
