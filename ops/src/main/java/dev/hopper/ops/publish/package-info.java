/** {@code hopper publish}: tasks from the command line or a JSON-lines file, each confirmed by the broker. */
@NullMarked
package dev.hopper.ops.publish;

import org.jspecify.annotations.NullMarked;
