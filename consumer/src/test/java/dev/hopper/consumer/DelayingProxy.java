package dev.hopper.consumer;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

/**
 * A TCP proxy in front of the broker that can hold back what the broker sends (every chunk waits
 * {@link #delayReplies}), so every broker RPC through it takes at least that long: a slow broker without touching
 * the shared one. Test fixture; closes every socket it opened.
 */
final class DelayingProxy implements AutoCloseable {
    private final ServerSocket server;
    private final String targetHost;
    private final int targetPort;
    private final List<Socket> sockets = new CopyOnWriteArrayList<>();
    private volatile long delayMs;
    private volatile boolean closed;

    DelayingProxy(String targetHost, int targetPort) throws IOException {
        this.targetHost = targetHost;
        this.targetPort = targetPort;
        this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread accept = new Thread(this::accept, "delaying-proxy-accept");
        accept.setDaemon(true);
        accept.start();
    }

    int port() {
        return server.getLocalPort();
    }

    /** From now on, each chunk the broker sends is held back this long (zero: passed on at once). */
    void delayReplies(Duration d) {
        delayMs = d.toMillis();
    }

    private void accept() {
        while (!closed) {
            try {
                Socket client = server.accept();
                Socket broker = new Socket(targetHost, targetPort);
                sockets.add(client);
                sockets.add(broker);
                pump(client.getInputStream(), broker.getOutputStream(), false);
                pump(broker.getInputStream(), client.getOutputStream(), true);
            } catch (IOException e) {
                return; // closed
            }
        }
    }

    private void pump(InputStream in, OutputStream out, boolean delayed) {
        Thread t = new Thread(() -> {
            byte[] buf = new byte[16 * 1024];
            try {
                for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                    long d = delayMs;
                    if (delayed && d > 0) {
                        Thread.sleep(d);
                    }
                    out.write(buf, 0, n);
                    out.flush();
                }
            } catch (IOException | InterruptedException e) {
                // closed
            }
        }, "delaying-proxy-pump");
        t.setDaemon(true);
        t.start();
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        for (Socket s : sockets) {
            s.close();
        }
    }
}
