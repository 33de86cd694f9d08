/**
 * {@code hopper group show PARENT_ID}: a parent's follow-ups and join as the coordination store records them
 * (design.md, "Follow-up tasks and joins").
 */
@NullMarked
package dev.hopper.ops.group;

import org.jspecify.annotations.NullMarked;
