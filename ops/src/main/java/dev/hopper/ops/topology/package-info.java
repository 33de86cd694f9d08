/** {@code hopper topology declare|verify}: the broker objects of hopper.yml. */
@NullMarked
package dev.hopper.ops.topology;

import org.jspecify.annotations.NullMarked;
