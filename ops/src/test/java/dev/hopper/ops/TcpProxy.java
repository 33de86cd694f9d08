package dev.hopper.ops;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP forwarder a test controls, to cut the network between one client and its broker node. {@link #cut()} is a
 * blackhole: connections stay open but nothing passes either way (what arrives is read and dropped), and new
 * connections are accepted and held without an upstream, so both ends notice only through heartbeats, as with a
 * pulled cable. {@link #heal()} closes every connection made so far and forwards new ones again. Threads: one
 * acceptor and two pumps per connection, all daemons; {@link #close()} stops them.
 */
final class TcpProxy implements AutoCloseable {
    private final ServerSocket server;
    private final InetSocketAddress target;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile boolean cut;
    private volatile boolean closed;

    TcpProxy(InetSocketAddress target) throws IOException {
        this.target = target;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(this::accept, "tcp-proxy-accept-" + port());
        acceptor.setDaemon(true);
        acceptor.start();
    }

    int port() {
        return server.getLocalPort();
    }

    void cut() {
        cut = true;
    }

    void heal() {
        cut = false;
        for (Socket s : sockets) {
            closeQuietly(s);
        }
        sockets.clear();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                sockets.add(client);
                if (cut) {
                    pump(client.getInputStream(), null, client, null);
                    continue;
                }
                Socket upstream = new Socket();
                upstream.connect(target, 5000);
                sockets.add(upstream);
                pump(client.getInputStream(), upstream.getOutputStream(), client, upstream);
                pump(upstream.getInputStream(), client.getOutputStream(), upstream, client);
            } catch (IOException e) {
                if (closed) {
                    return;
                }
                // Upstream refused (node down): the client's connection is closed and it retries, as it would.
            }
        }
    }

    private void pump(InputStream in, OutputStream out, Socket from, Socket to) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try {
                int n;
                while ((n = in.read(buf)) >= 0) {
                    if (!cut && out != null) {
                        out.write(buf, 0, n);
                        out.flush();
                    }
                }
            } catch (IOException ignored) {
                // The other pump or heal() closed a socket: this connection is over.
            } finally {
                closeQuietly(from);
                if (to != null) {
                    closeQuietly(to);
                }
            }
        }, "tcp-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // Already closed.
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        heal();
    }
}
