package dev.timbre.common.secrets;

import java.net.URI;
import java.net.URISyntaxException;
import java.util.Locale;
import java.util.Set;

/**
 * Checks an AMQP URL as RabbitMQ's {@code ConnectionFactory.setUri} would, before anything else sees it, so a URL it
 * would refuse fails as a configuration error whose reason never quotes the URL ({@code java.net.URI} exceptions
 * carry the whole input, password included). The checks are written out rather than delegated to
 * {@code setUri}: loading {@code ConnectionFactory} starts logging, which the bridge must not do before its
 * configuration has chosen the log format. {@code ConfigSecretsPropertyTest} holds the two to the same verdict.
 *
 * <p>One copy for both services: the bridge reads {@code TIMBRE_AMQP_URL} to consume, {@code ./timbre submit} to
 * publish.
 */
public final class AmqpUrl {

    /** What to do about the usual cause: Secrets Manager's default alphabet has characters a URL reserves. */
    public static final String ENCODING_HINT = "; characters such as ^ # % / @ : ? in the user name or password "
            + "must be percent-encoded (e.g. @ as %40, / as %2F, # as %23, % as %25, ^ as %5E, : as %3A)";

    // the query parameters setUri parses as whole numbers (ConnectionFactory.URI_QUERY_PARAMETER_HANDLERS)
    private static final Set<String> NUMBER_PARAMETERS = Set.of("heartbeat", "connection_timeout", "channel_max");

    private AmqpUrl() {
    }

    /**
     * @throws IllegalArgumentException whose message is a reason that quotes no part of {@code value}
     */
    public static URI parse(String value) {
        URI uri;
        try {
            uri = new URI(value);
        } catch (URISyntaxException e) {
            // getReason() is the parser's fixed text; getMessage() would add the input
            throw new IllegalArgumentException("is not a valid URL (" + e.getReason() + ")" + hintFor(value));
        }
        String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("amqp") && !scheme.equals("amqps")) {
            throw new IllegalArgumentException("must start with amqp:// or amqps://" + hintFor(value));
        }
        if (uri.getHost() == null) {
            throw new IllegalArgumentException("has no host" + hintFor(value));
        }
        String userInfo = uri.getRawUserInfo();
        if (userInfo != null && userInfo.split(":").length > 2) {
            throw new IllegalArgumentException("has more than one ':' in its user-info" + ENCODING_HINT);
        }
        String path = uri.getRawPath();
        if (path != null && path.length() > 1 && path.indexOf('/', 1) >= 0) {
            throw new IllegalArgumentException("has more than one path segment (the path is one virtual host; "
                    + "encode / in it as %2F)" + hintFor(value));
        }
        String query = uri.getRawQuery();
        if (query != null) {
            for (String parameter : query.split("&")) {
                String[] pair = parameter.split("=", 2);
                if (NUMBER_PARAMETERS.contains(Redaction.percentDecoded(pair[0])) && !(pair.length == 2 && pair[1].matches("\\d{1,9}"))) {
                    throw new IllegalArgumentException("has a query parameter " + pair[0]
                            + " that is not a whole number" + hintFor(value));
                }
            }
        }
        return uri;
    }

    private static String hintFor(String value) {
        return value.indexOf('@') >= 0 ? ENCODING_HINT : "";
    }
}
