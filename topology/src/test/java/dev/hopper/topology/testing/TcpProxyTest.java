package dev.hopper.topology.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

@Timeout(60)
class TcpProxyTest {

    /** An echo server on a free port, one thread per connection. */
    private static ServerSocket echoServer() throws IOException {
        ServerSocket server = new ServerSocket(0);
        Thread t = new Thread(() -> {
            while (!server.isClosed()) {
                try {
                    Socket s = server.accept();
                    Thread echo = new Thread(() -> {
                        try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
                            in.transferTo(out);
                        } catch (IOException ignored) {
                            // client gone
                        }
                    });
                    echo.setDaemon(true);
                    echo.start();
                } catch (IOException e) {
                    return;
                }
            }
        });
        t.setDaemon(true);
        t.start();
        return server;
    }

    private static String roundTrip(Socket s, String text) throws IOException {
        s.getOutputStream().write(text.getBytes());
        s.getOutputStream().flush();
        byte[] buf = s.getInputStream().readNBytes(text.length());
        return new String(buf);
    }

    @Test
    void forwardsBlackholesHealsAndResets() throws Exception {
        try (ServerSocket server = echoServer(); TcpProxy proxy = TcpProxy.start("127.0.0.1", server.getLocalPort());
                Socket client = new Socket("127.0.0.1", proxy.port())) {
            client.setSoTimeout(1000);
            assertThat(roundTrip(client, "hello")).isEqualTo("hello");
            assertThat(proxy.openConnections()).isEqualTo(1);

            proxy.blackhole();
            client.getOutputStream().write("lost?".getBytes());
            assertThatThrownBy(() -> client.getInputStream().read()).isInstanceOf(SocketTimeoutException.class);
            proxy.heal();
            client.setSoTimeout(10_000);
            assertThat(new String(client.getInputStream().readNBytes(5))).isEqualTo("lost?");

            proxy.slow(Duration.ofMillis(20), 10_000);
            assertThat(roundTrip(client, "slow but there")).isEqualTo("slow but there");
            proxy.fast();

            assertThat(proxy.resetAll()).isEqualTo(1);
            assertThatThrownBy(() -> {
                for (int i = 0; i < 100; i++) {
                    roundTrip(client, "after reset");
                }
            }).isInstanceOf(IOException.class);
        }
    }

    @Test
    void refusesNewConnectionsWhileTold() throws Exception {
        try (ServerSocket server = echoServer(); TcpProxy proxy = TcpProxy.start("127.0.0.1", server.getLocalPort())) {
            proxy.refuseNew(true);
            try (Socket client = new Socket("127.0.0.1", proxy.port())) {
                client.setSoTimeout(5000);
                assertThatThrownBy(() -> roundTrip(client, "x")).isInstanceOf(IOException.class);
            }
            proxy.refuseNew(false);
            try (Socket client = new Socket("127.0.0.1", proxy.port())) {
                client.setSoTimeout(5000);
                assertThat(roundTrip(client, "ok")).isEqualTo("ok");
            }
        }
    }
}
