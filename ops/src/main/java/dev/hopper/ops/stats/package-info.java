/** {@code hopper stats}: depth and consumers of every work, retry and dead queue. */
@NullMarked
package dev.hopper.ops.stats;

import org.jspecify.annotations.NullMarked;
