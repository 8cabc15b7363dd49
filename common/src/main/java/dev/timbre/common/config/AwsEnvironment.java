package dev.timbre.common.config;

import java.net.URI;
import java.util.Optional;

/**
 * The AWS settings both services read the same way (docs/architecture.md §8):
 * <ul>
 *   <li>an endpoint override is the SDK's own pair: {@code AWS_ENDPOINT_URL_<SERVICE>}, else the shared
 *       {@code AWS_ENDPOINT_URL}; both must be http(s) URLs. An override means a local server (ElasticMQ, S3Proxy,
 *       the demo's stack).</li>
 *   <li>{@code AWS_REGION} is required against real AWS: a process that silently talked to {@code us-east-1}
 *       while its queue lives elsewhere would fail later and less clearly. Only when an endpoint override is set
 *       (a local server has no region to find) does it default to {@value #LOCAL_REGION}. Lambda and ECS set
 *       {@code AWS_REGION} themselves; {@code template.yaml} sets it on every task.</li>
 * </ul>
 */
public final class AwsEnvironment {

    /** The region a local run signs its requests for when none is set; local servers accept any. */
    public static final String LOCAL_REGION = "us-east-1";

    private AwsEnvironment() {
    }

    /** The shared {@code AWS_ENDPOINT_URL}, validated. */
    public static Optional<URI> sharedEndpoint(EnvReader env) {
        return env.optional("AWS_ENDPOINT_URL", EnvReader::httpUrl);
    }

    /**
     * The endpoint override of one service: {@code serviceVariable} (e.g. {@code AWS_ENDPOINT_URL_SQS}), else the
     * shared {@code AWS_ENDPOINT_URL}. Both are validated even when the first is set.
     */
    public static Optional<URI> endpoint(EnvReader env, String serviceVariable) {
        Optional<URI> shared = sharedEndpoint(env);
        return env.optional(serviceVariable, EnvReader::httpUrl).or(() -> shared);
    }

    /**
     * {@code AWS_REGION}: required unless {@code localEndpoint} (an endpoint override is in force for the AWS
     * services this process calls), then {@value #LOCAL_REGION} when unset.
     */
    public static String region(EnvReader env, boolean localEndpoint) {
        Optional<String> region = env.optional("AWS_REGION", EnvReader::name);
        if (region.isPresent() || localEndpoint) {
            return region.orElse(LOCAL_REGION);
        }
        throw new ConfigException("AWS_REGION", "is required but not set (only with an endpoint override, "
                + "AWS_ENDPOINT_URL, is it " + LOCAL_REGION + " by default)");
    }
}
