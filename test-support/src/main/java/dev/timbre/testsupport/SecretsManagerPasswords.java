package dev.timbre.testsupport;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;

/**
 * Secrets as AWS Secrets Manager's GetRandomPassword makes them by default, and the check that none leaks, for the
 * secrets properties of both services (docs/security.md §3): every configuration error, with such values, never
 * shows the secret.
 */
public final class SecretsManagerPasswords {

    /** GetRandomPassword's default alphabet: letters, digits and all ASCII punctuation. */
    public static final String ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
            + "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
    /** Characters that break a URL's user-info unless percent-encoded. */
    public static final String URL_BREAKERS = "^#%/@:?&[]\\`{}|\"<>";
    /** No piece of a secret this long may appear (a chance 6-character match of random text is ~1e-12). */
    public static final int WINDOW = 6;

    private SecretsManagerPasswords() {
    }

    /** A password of 12..40 characters of {@link #ALPHABET}, half of them with a URL breaker in it. */
    public static String password(Random r) {
        StringBuilder s = new StringBuilder(randomText(r, 12 + r.nextInt(29)));
        if (r.nextBoolean()) {
            s.setCharAt(r.nextInt(s.length()), URL_BREAKERS.charAt(r.nextInt(URL_BREAKERS.length())));
        }
        return s.toString();
    }

    /** {@code length} characters of {@link #ALPHABET}. */
    public static String randomText(Random r, int length) {
        StringBuilder s = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            s.append(ALPHABET.charAt(r.nextInt(ALPHABET.length())));
        }
        return s.toString();
    }

    /** The password percent-encoded, as a user would put it in a URL. */
    public static String encoded(String password) {
        return URLEncoder.encode(password, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /**
     * Fails unless no secret, as written or percent-encoded, nor any {@link #WINDOW}-character piece of it, is in
     * {@code text}.
     */
    public static void assertNoSecret(String where, String text, List<String> secrets) {
        for (String secret : secrets) {
            for (String form : List.of(secret, encoded(secret))) {
                int window = Math.min(WINDOW, form.length());
                for (int i = 0; i + window <= form.length(); i++) {
                    String piece = form.substring(i, i + window);
                    if (text.contains(piece)) {
                        throw new AssertionError(where + ": shows \"" + piece + "\" of the secret \"" + secret
                                + "\" in: " + text);
                    }
                }
            }
        }
    }
}
