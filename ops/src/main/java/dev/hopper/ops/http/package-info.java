/** The worker's HTTP probe: Prometheus metrics and health on the JDK's built-in HTTP server. */
@NullMarked
package dev.hopper.ops.http;

import org.jspecify.annotations.NullMarked;
