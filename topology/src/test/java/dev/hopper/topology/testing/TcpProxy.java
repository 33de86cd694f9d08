package dev.hopper.topology.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * A TCP proxy between a client under test and a server (a broker, Redis), for network faults without touching
 * the server: {@link #blackhole()} (connections stay open, bytes stop flowing both ways, as a dead link looks
 * until heartbeats notice), {@link #resetAll()} (every connection gets a TCP RST), {@link #refuseNew(boolean)},
 * and a slow link ({@link #slow(Duration, long)}: latency per chunk and a bandwidth cap).
 *
 * <p>Threads: one acceptor and two pump threads per connection, all daemon; {@link #close()} closes the listener
 * and every connection and returns when the acceptor has ended. Thread-safe.
 */
public final class TcpProxy implements AutoCloseable {
    private final ServerSocket listener;
    private final InetSocketAddress target;
    private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
    private final Thread acceptor;
    private volatile boolean blackholed;
    private volatile boolean refusing;
    private volatile long latencyNanos;
    private volatile long bytesPerSecond; // 0 = no cap
    private volatile boolean closed;

    private TcpProxy(InetSocketAddress target) {
        this.target = target;
        try {
            this.listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot listen for a proxy", e);
        }
        this.acceptor = new Thread(this::acceptLoop, "tcp-proxy-" + listener.getLocalPort());
        acceptor.setDaemon(true);
    }

    /** Starts a proxy on a free loopback port forwarding to {@code targetHost:targetPort}. */
    public static TcpProxy start(String targetHost, int targetPort) {
        TcpProxy proxy = new TcpProxy(new InetSocketAddress(targetHost, targetPort));
        proxy.acceptor.start();
        return proxy;
    }

    /** The port clients connect to. */
    public int port() {
        return listener.getLocalPort();
    }

    /** Connections currently open through the proxy (client side). */
    public int openConnections() {
        return sockets.size() / 2;
    }

    /** Stops forwarding bytes in both directions; connections stay open. */
    public void blackhole() {
        blackholed = true;
    }

    /** Forwards again after {@link #blackhole()}; bytes held back meanwhile are delivered late. */
    public void heal() {
        blackholed = false;
        synchronized (this) {
            notifyAll();
        }
    }

    /** While true, new connections are accepted and reset at once (the server looks down). */
    public void refuseNew(boolean refuse) {
        this.refusing = refuse;
    }

    /** Resets (TCP RST) every open connection, both sides. */
    public int resetAll() {
        int n = openConnections();
        for (Socket s : sockets) {
            reset(s);
        }
        return n;
    }

    /** Delays every chunk by {@code latency} and caps throughput per direction ({@code 0} = no cap). */
    public void slow(Duration latency, long bytesPerSecondCap) {
        this.latencyNanos = latency.toNanos();
        this.bytesPerSecond = bytesPerSecondCap;
    }

    /** Back to a fast link. */
    public void fast() {
        slow(Duration.ZERO, 0);
    }

    @Override
    public void close() {
        closed = true;
        heal();
        try {
            listener.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        resetAll();
        try {
            acceptor.join(TimeUnit.SECONDS.toMillis(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void acceptLoop() {
        while (!closed) {
            Socket client;
            try {
                client = listener.accept();
            } catch (IOException e) {
                return; // closed
            }
            if (refusing) {
                reset(client);
                continue;
            }
            Socket server = new Socket();
            try {
                server.connect(target, 5000);
            } catch (IOException e) {
                reset(client);
                closeQuietly(server);
                continue;
            }
            sockets.add(client);
            sockets.add(server);
            pump(client, server, "up");
            pump(server, client, "down");
        }
    }

    private void pump(Socket from, Socket to, String direction) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    waitWhileBlackholed();
                    throttle(n);
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // reset or closed: end both sides below
            } finally {
                sockets.remove(from);
                sockets.remove(to);
                closeQuietly(from);
                closeQuietly(to);
            }
        }, "tcp-proxy-" + port() + "-" + direction);
        t.setDaemon(true);
        t.start();
    }

    private void waitWhileBlackholed() throws InterruptedException {
        synchronized (this) {
            while (blackholed && !closed) {
                wait(100);
            }
        }
    }

    private void throttle(int bytes) throws InterruptedException {
        long delay = latencyNanos;
        long cap = bytesPerSecond;
        if (cap > 0) {
            delay += TimeUnit.SECONDS.toNanos(1) * bytes / cap;
        }
        if (delay > 0) {
            TimeUnit.NANOSECONDS.sleep(delay);
        }
    }

    private static void reset(Socket s) {
        try {
            s.setSoLinger(true, 0); // close with RST, not FIN
        } catch (SocketException ignored) {
            // already closed
        }
        closeQuietly(s);
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // nothing left to release
        }
    }
}
