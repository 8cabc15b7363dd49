package dev.timbre.common.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.net.URI;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class AwsEnvironmentTest {

    @Test
    void theRegionIsRequiredAgainstRealAws() {
        ConfigException e = assertThrows(ConfigException.class,
                () -> AwsEnvironment.region(new EnvReader(Map.of()), false));
        assertEquals(Optional.of("AWS_REGION"), e.variable());
        assertTrue(e.getMessage().startsWith("AWS_REGION is required but not set"), e.getMessage());
        assertEquals("eu-west-1", AwsEnvironment.region(new EnvReader(Map.of("AWS_REGION", "eu-west-1")), false));
    }

    @Test
    void onlyALocalEndpointDefaultsTheRegion() {
        assertEquals("us-east-1", AwsEnvironment.region(new EnvReader(Map.of()), true));
        assertEquals("eu-west-1", AwsEnvironment.region(new EnvReader(Map.of("AWS_REGION", "eu-west-1")), true));
    }

    @Test
    void theServiceEndpointWinsOverTheSharedOneAndBothAreChecked() {
        EnvReader both = new EnvReader(Map.of("AWS_ENDPOINT_URL", "http://127.0.0.1:4566",
                "AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324"));
        assertEquals(Optional.of(URI.create("http://127.0.0.1:9324")),
                AwsEnvironment.endpoint(both, "AWS_ENDPOINT_URL_SQS"));
        assertEquals(Optional.of(URI.create("http://127.0.0.1:4566")),
                AwsEnvironment.endpoint(both, "AWS_ENDPOINT_URL_S3"));
        assertEquals(Optional.empty(), AwsEnvironment.endpoint(new EnvReader(Map.of()), "AWS_ENDPOINT_URL_S3"));

        EnvReader badShared = new EnvReader(Map.of("AWS_ENDPOINT_URL", "127.0.0.1:4566",
                "AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:9324"));
        ConfigException e = assertThrows(ConfigException.class,
                () -> AwsEnvironment.endpoint(badShared, "AWS_ENDPOINT_URL_SQS"));
        assertEquals(Optional.of("AWS_ENDPOINT_URL"), e.variable());
    }
}
