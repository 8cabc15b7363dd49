package dev.timbre.common.secrets;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The one masking rule for everything printed about configuration: configuration errors, {@code toString}, the
 * CLI's one-line errors. Two kinds of secret exist:
 * <ul>
 *   <li>the whole value of a variable whose name says it holds a secret ({@link #isSecretVariable}): never shown;</li>
 *   <li>the password of a URL's user-info (everything between the first {@code :} after {@code ://} and the
 *       <em>last</em> {@code @}, so a password with an unencoded {@code @ / # ?} is still covered; the whole
 *       user-info when it has no {@code :}, a token) and the value of a {@code password=} parameter (up to the
 *       end: an unencoded {@code &} in it must not expose the rest).</li>
 * </ul>
 * Over-masking (an {@code @} in a query, parameters after {@code password=}) is accepted: a configuration error
 * that says less is better than one in CloudWatch that says the password.
 *
 * <p>One copy for both services (the bridge and the functions modules use this class); each service's
 * {@code ConfigSecretsPropertyTest} holds its configuration reader to this rule.
 */
public final class Redaction {

    public static final String MASK = "****";

    /** Secrets shorter than this are not searched for in free text: replacing "ab" everywhere would garble it. */
    static final int MIN_SECRET_LENGTH = 4;

    /**
     * No run of this many characters of a secret survives {@link #text(String, Map)}, wherever it came from (a list
     * variable split at a comma inside a password, a library quoting half a URL). Six characters of a random
     * password match ordinary text by chance about once in 10^11.
     */
    static final int PIECE = 6;

    // TIMBRE_DB_SECRET_ARN names a secret, it does not hold one
    private static final Pattern SECRET_NAME =
            Pattern.compile("(?i).*(PASSWORD|PASSWD|TOKEN|API_?KEY|SECRET(?!_ARN$)|CREDENTIAL).*");
    private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)((?:ssl)?passw(?:or)?d=).*");
    private static final Pattern WHITESPACE = Pattern.compile("\\s+");

    private Redaction() {
    }

    /** True when the variable's whole value is a secret (a password, key, token), never to be shown. */
    public static boolean isSecretVariable(String name) {
        return SECRET_NAME.matcher(name).matches();
    }

    /** {@code value} of {@code variable} as an error message may quote it. */
    public static String value(String variable, String value) {
        return isSecretVariable(variable) ? MASK : url(value);
    }

    /** One value (a whole URL, or anything that may be one) with its user-info and password parameter masked. */
    public static String url(String value) {
        if (value == null) {
            return null;
        }
        // the parameter first: an @ in its value must not be taken for the end of a user-info
        String out = PASSWORD_PARAMETER.matcher(value).replaceAll("$1" + Matcher.quoteReplacement(MASK));
        int[] userInfo = userInfoRange(out);
        if (userInfo != null) {
            // the user name stays (it says which account); without one, the whole user-info may be a token
            int colon = out.indexOf(':', userInfo[0]);
            int from = colon >= 0 && colon < userInfo[1] ? colon + 1 : userInfo[0];
            out = out.substring(0, from) + MASK + out.substring(userInfo[1]);
        }
        return out;
    }

    /**
     * Free text (an exception message from a library, which may quote a URL): every whitespace-separated word is
     * masked as {@link #url}. Secrets in the alphabets we are given never contain whitespace, so a URL is one word.
     */
    public static String text(String message) {
        if (message == null) {
            return null;
        }
        Matcher space = WHITESPACE.matcher(message);
        StringBuilder out = new StringBuilder(message.length());
        int start = 0;
        while (space.find()) {
            out.append(url(message.substring(start, space.start()))).append(space.group());
            start = space.end();
        }
        return out.append(url(message.substring(start))).toString();
    }

    /**
     * As {@link #text(String)}, and also every secret the environment holds masked wherever it appears, even
     * without its URL around it (a library may quote only a part, e.g. pgjdbc's "invalid port number: pw@host"):
     * the values of secret variables, and of every URL-like value its user-info and the password in it, as written
     * and percent-decoded; each whole, then any {@value #PIECE}-character piece of one.
     */
    public static String text(String message, Map<String, String> env) {
        if (message == null) {
            return null;
        }
        List<String> secrets = secretsIn(env);
        String out = message;
        for (String secret : secrets) {
            out = out.replace(secret, MASK);
        }
        return text(withoutPieces(out, secrets));
    }

    /** {@code text} with every run that shares a {@value #PIECE}-character piece with a secret replaced by the mask. */
    static String withoutPieces(String text, List<String> secrets) {
        boolean[] secret = new boolean[text.length()];
        boolean any = false;
        for (String s : secrets) {
            if (s.length() < PIECE) {
                continue;
            }
            Set<String> pieces = new HashSet<>();
            for (int i = 0; i + PIECE <= s.length(); i++) {
                pieces.add(s.substring(i, i + PIECE));
            }
            for (int i = 0; i + PIECE <= text.length(); i++) {
                if (pieces.contains(text.substring(i, i + PIECE))) {
                    Arrays.fill(secret, i, i + PIECE, true);
                    any = true;
                }
            }
        }
        if (!any) {
            return text;
        }
        StringBuilder out = new StringBuilder(text.length());
        for (int i = 0; i < text.length(); i++) {
            if (!secret[i]) {
                out.append(text.charAt(i));
            } else if (i == 0 || !secret[i - 1]) {
                out.append(MASK);
            }
        }
        return out.toString();
    }

    /** Every secret {@code env} holds, longest first (so a password is replaced before a part of it). */
    static List<String> secretsIn(Map<String, String> env) {
        Set<String> found = new LinkedHashSet<>();
        env.forEach((name, value) -> {
            if (value == null || value.isBlank()) {
                return;
            }
            if (isSecretVariable(name)) {
                found.add(value);
                found.add(value.strip());
            }
            int[] range = userInfoRange(value);
            if (range != null) {
                String userInfo = value.substring(range[0], range[1]);
                int colon = userInfo.indexOf(':');
                if (colon >= 0) {
                    String password = userInfo.substring(colon + 1);
                    found.add(userInfo);
                    found.add(password);
                    found.add(percentDecoded(password));
                } else if (value.contains("://")) {
                    found.add(userInfo); // a token as the user name, e.g. https://TOKEN@host
                }
            }
            Matcher parameter = PASSWORD_PARAMETER.matcher(value);
            if (parameter.find()) {
                String password = value.substring(parameter.end(1));
                found.add(password);
                found.add(percentDecoded(password));
                int amp = password.indexOf('&');
                if (amp > 0) {
                    found.add(password.substring(0, amp)); // what pgjdbc would take as the password
                }
            }
        });
        List<String> secrets = new ArrayList<>();
        for (String s : found) {
            if (s.length() >= MIN_SECRET_LENGTH) {
                secrets.add(s);
            }
        }
        secrets.sort(Comparator.comparingInt(String::length).reversed());
        return secrets;
    }

    /**
     * Where the user-info of {@code value} is, {start, end}, or null when it has none: from after {@code ://} (or
     * the start, for {@code user:pw@host} without a scheme) to the last {@code @}.
     */
    private static int[] userInfoRange(String value) {
        int at = value.lastIndexOf('@');
        if (at < 0) {
            return null;
        }
        int scheme = value.indexOf("://");
        int start = scheme >= 0 && scheme < at ? scheme + 3 : 0;
        return at > start ? new int[] {start, at} : null;
    }

    /** {@code %XX} escapes decoded as UTF-8; anything malformed is kept as written. */
    static String percentDecoded(String s) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(s.length());
        int i = 0;
        while (i < s.length()) {
            if (s.charAt(i) == '%' && i + 2 < s.length()
                    && Character.digit(s.charAt(i + 1), 16) >= 0 && Character.digit(s.charAt(i + 2), 16) >= 0) {
                bytes.write(Integer.parseInt(s.substring(i + 1, i + 3), 16));
                i += 3;
            } else {
                int cp = s.codePointAt(i);
                byte[] b = new String(Character.toChars(cp)).getBytes(StandardCharsets.UTF_8);
                bytes.write(b, 0, b.length);
                i += Character.charCount(cp);
            }
        }
        return bytes.toString(StandardCharsets.UTF_8);
    }
}
