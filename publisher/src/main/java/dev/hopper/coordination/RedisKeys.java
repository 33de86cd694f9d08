package dev.hopper.coordination;

/**
 * The Redis key layout of one namespace ({@code ns}, e.g. {@code hopper:}):
 *
 * <ul>
 *   <li>{@code <ns>rev:<key>}: the key's revision (integer, no expiry; missing means 0)</li>
 *   <li>{@code <ns>lock:<key>}: {@code "<fencingToken>:<owner>"} while the lock is held; expires after the lease</li>
 *   <li>{@code <ns>token:<key>}: the last fencing token issued for the key; expires after a week without locking
 *       (tokens are seeded from the server clock, so losing this key never makes them go back)</li>
 *   <li>{@code <ns>done:<messageId>}: the owner that completed the message; expires after the done-marker TTL</li>
 * </ul>
 */
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
