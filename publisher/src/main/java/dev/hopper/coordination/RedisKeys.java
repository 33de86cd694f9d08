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
}
