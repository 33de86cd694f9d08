/** {@code hopper completion bash|zsh}: shell completion scripts. */
@NullMarked
package dev.hopper.ops.completion;

import org.jspecify.annotations.NullMarked;
