package dev.hopper.publisher;

import java.net.URI;

/** URI helpers: Hopper prints broker and Redis URIs only through {@link #redact}. */
final class Uris {
    private Uris() {}

    /** Percent-decodes one URI component; a literal {@code +} stays a plus (URIs are not form data). */
    static String decode(String component) {
        return java.net.URLDecoder.decode(component.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
    }

    /** {@code amqp://user:secret@host/} becomes {@code amqp://user:***@host/}; URIs without a password pass. */
    static String redact(URI uri) {
        String userInfo = uri.getRawUserInfo();
        if (userInfo == null) {
            // A multi-node URI (amqp://u:p@h1,h2/) has a registry-based authority: java.net.URI gives no user info.
            return mask(uri.toString());
        }
        int colon = userInfo.indexOf(':');
        String masked = colon < 0 ? userInfo : userInfo.substring(0, colon) + ":***";
        String s = uri.toString();
        return s.replaceFirst(java.util.regex.Pattern.quote(userInfo + "@"),
                java.util.regex.Matcher.quoteReplacement(masked + "@"));
    }

    /** Masks whatever sits between {@code ://user:} and the last {@code @} of the authority, in any text. */
    static String mask(String text) {
        return text.replaceAll("(://[^/:@\\s]*:)[^/\\s]*@", "$1***@");
    }
}
