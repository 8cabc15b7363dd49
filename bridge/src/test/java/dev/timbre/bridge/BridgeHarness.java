package dev.timbre.bridge;

import dev.timbre.bridge.config.BridgeConfig;
import dev.timbre.bridge.testing.BridgeEnv;
import dev.timbre.bridge.testing.ElasticMq;
import dev.timbre.bridge.testing.Rabbit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/**
 * What the in-JVM bridge tests share: one ElasticMQ per class, a RabbitMQ connection per test, and the bridge
 * under test, closed after each test.
 */
abstract class BridgeHarness {

    static ElasticMq sqs;
    Rabbit rabbit;
    Bridge bridge;

    @BeforeAll
    static void startSqs() {
        sqs = new ElasticMq();
    }

    @AfterAll
    static void stopSqs() {
        sqs.close();
    }

    @BeforeEach
    void connect() throws Exception {
        rabbit = new Rabbit();
    }

    @AfterEach
    void cleanUp() throws Exception {
        if (bridge != null) {
            bridge.close();
        }
        rabbit.close();
    }

    Bridge start(BridgeEnv env) throws Exception {
        bridge = new Bridge(BridgeConfig.fromEnv(env.map()));
        bridge.start();
        return bridge;
    }
}
