package dev.hopper.ops.cli;

import java.net.InetAddress;
import java.net.UnknownHostException;

/** Who runs the command, as {@code user@host}, for {@code x-hopper-replayed-by} and audit log lines. */
public final class Operator {
    private Operator() {}

    public static String name() {
        String user = System.getProperty("user.name", "unknown");
        String host;
        try {
            host = InetAddress.getLocalHost().getHostName();
        } catch (UnknownHostException e) {
            String env = System.getenv("HOSTNAME");
            host = env == null || env.isBlank() ? "unknown-host" : env;
        }
        return user + "@" + host;
    }
}
