package dev.hopper.topology;

import java.net.URI;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one place that hides passwords in URIs: Hopper prints and logs broker and Redis URIs only through it.
 * {@code amqp://user:secret@host/} becomes {@code amqp://user:***@host/}; for {@code redis://} and
 * {@code rediss://} a user-info without a colon is the password ({@code redis://secret@host} becomes
 * {@code redis://***@host}), while for AMQP it is a user name and stays. Stateless.
 */
public final class UriRedactor {
    private static final Pattern USER_AND_PASSWORD = Pattern.compile("(://[^/:@\\s]*:)[^@\\s]*@");
    private static final Pattern REDIS_PASSWORD_ONLY = Pattern.compile("(?i)(rediss?://)[^/:@\\s]+@");

    private UriRedactor() {}

    /** {@code uri} as text with its password masked. */
    public static String redact(URI uri) {
        String userInfo = uri.getRawUserInfo();
        if (userInfo == null) {
            // A multi-node URI (amqp://u:p@h1,h2/) has a registry-based authority: java.net.URI gives no user info.
            return redactText(uri.toString());
        }
        int colon = userInfo.indexOf(':');
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        boolean passwordOnly = colon < 0 && (scheme.equals("redis") || scheme.equals("rediss"));
        String masked = colon >= 0 ? userInfo.substring(0, colon) + ":***" : passwordOnly ? "***" : userInfo;
        return uri.toString().replaceFirst(Pattern.quote(userInfo + "@"), Matcher.quoteReplacement(masked + "@"));
    }

    /**
     * Masks the passwords of every URI in {@code text}, which may not even parse as a URI (an error message
     * quoting a malformed value), so that it can be echoed safely.
     */
    public static String redactText(String text) {
        String s = USER_AND_PASSWORD.matcher(text).replaceAll("$1***@");
        return REDIS_PASSWORD_ONLY.matcher(s).replaceAll("$1***@");
    }
}
