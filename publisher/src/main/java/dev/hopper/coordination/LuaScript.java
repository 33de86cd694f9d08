package dev.hopper.coordination;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * A Lua script shipped as a resource of this package, with the SHA-1 Redis files it under (so it can be called with
 * EVALSHA without a SCRIPT LOAD round trip first). Immutable.
 */
record LuaScript(String name, String source, String sha1) {

    /** Reads {@code dev/hopper/coordination/<resource>} from the class path. */
    static LuaScript load(String resource) {
        try (InputStream in = LuaScript.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalStateException("Lua script " + resource + " is missing from the hopper-publisher jar");
            }
            String source = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            return new LuaScript(resource, source, sha1Hex(source));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read Lua script " + resource + " from the class path", e);
        }
    }

    private static String sha1Hex(String source) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-1").digest(source.getBytes(StandardCharsets.UTF_8));
            return HexFormat.of().formatHex(digest);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("the JVM has no SHA-1, which every Java platform must provide", e);
        }
    }
}
