/** {@code hopper revision get|bump}: an entity key's revision in the Redis store. */
@NullMarked
package dev.hopper.ops.revision;

import org.jspecify.annotations.NullMarked;
