/**
 * {@code hopper console}: the dead-letter console in a browser. A JDK {@link com.sun.net.httpserver.HttpServer}
 * serves one static page (HTML, CSS and a small script shipped in the jar, no CDN) over a JSON API.
 *
 * <p>Reads are served from a {@link dev.hopper.ops.console.DeadLetterIndex}: a bounded, background-refreshed
 * summary of each dead queue, because reading a quorum queue is slow (every read is a consume whose messages go
 * back on close). Replay and purge act on the real queue through the same classes as {@code hopper dlq}
 * ({@link dev.hopper.ops.dlq.DeadLetterReplayer}, {@link dev.hopper.ops.dlq.DeadLetterPurger}), with their
 * audit line and their guarantee (publish, confirm, then ack: a crash duplicates at most).
 *
 * <p>Security: binds to 127.0.0.1 by default; every request must name this server in {@code Host} (DNS rebinding);
 * every mutating request needs the console's token in the {@code X-Hopper-Token} header, a JSON body and, when
 * the browser sends one, a same-origin {@code Origin} (CSRF); the page renders every value as text and a strict
 * Content-Security-Policy forbids inline script; the broker's password is never sent.
 */
@NullMarked
package dev.hopper.ops.console;

import org.jspecify.annotations.NullMarked;
