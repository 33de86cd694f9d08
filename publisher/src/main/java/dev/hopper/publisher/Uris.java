package dev.hopper.publisher;

import java.net.URI;

/** URI helpers; printing goes through {@link UriRedactor}. */
final class Uris {
    private Uris() {}

    /** Percent-decodes one URI component; a literal {@code +} stays a plus (URIs are not form data). */
    static String decode(String component) {
        return java.net.URLDecoder.decode(component.replace("+", "%2B"), java.nio.charset.StandardCharsets.UTF_8);
    }
}
