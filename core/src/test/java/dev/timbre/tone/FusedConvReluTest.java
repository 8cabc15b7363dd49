package dev.timbre.tone;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.nn.Activation;
import ai.djl.nn.convolutional.Conv2d;
import org.junit.jupiter.api.Test;

class FusedConvReluTest {
    private static final long[] STRIDE = {2, 2};
    private static final long[] PADDING = {1, 1};
    private static final long[] DILATION = {1, 1};

    private final FusedConvRelu fused = new FusedConvRelu(STRIDE, PADDING, DILATION);

    /** DJL's conv, then DJL's ReLU as a second op: what the fused op must equal. */
    private static NDArray convThenRelu(NDArray input, NDArray weight, NDArray bias) {
        return Activation.relu(Conv2d.conv2d(input, weight, bias, new Shape(STRIDE), new Shape(PADDING),
                new Shape(DILATION)).singletonOrThrow());
    }

    @Test
    void theBundledLibtorchHasTheShimAndItMatchesConvThenRelu() {
        try (NDManager m = TorchEngine.newManager()) {
            m.getEngine().setRandomSeed(7);
            // both weight layouts the encoder may hold: contiguous, and channels-last handed over as a permuted view
            NDArray input = m.randomNormal(new Shape(1, 32, 37, 65));
            NDArray plain = m.randomNormal(new Shape(64, 32, 3, 3));
            NDArray channelsLast = m.randomNormal(new Shape(64, 3, 3, 32)).transpose(0, 3, 1, 2);
            NDArray bias = m.randomNormal(new Shape(64));
            assertTrue(FusedConvRelu.available(input, plain, bias),
                    "aoti_torch_cpu_mkldnn__convolution_pointwise linked");

            for (NDArray weight : new NDArray[] {plain, channelsLast}) {
                NDArray expected = convThenRelu(input, weight, bias);
                NDArray actual = fused.apply(input, weight, bias);
                assertEquals(expected.getShape(), actual.getShape());
                // values up to about 20 here, where a float ulp is 2e-6: the same sums, perhaps in another order
                assertArrayEquals(expected.toFloatArray(), actual.toFloatArray(), 1e-4f);
                assertFalse(actual.lt(0).any().getBoolean(), "ReLU applied");
                assertTrue(actual.eq(0).any().getBoolean(), "some outputs clipped at 0");
            }
        }
    }

    @Test
    void theOneChannelFirstLayerMatchesToo() {
        try (NDManager m = TorchEngine.newManager()) {
            m.getEngine().setRandomSeed(11);
            NDArray input = m.randomNormal(new Shape(1, 1, 50, 513));
            NDArray weight = m.randomNormal(new Shape(32, 1, 3, 3));
            NDArray bias = m.randomNormal(new Shape(32));
            NDArray expected = convThenRelu(input, weight, bias);
            assertArrayEquals(expected.toFloatArray(), fused.apply(input, weight, bias).toFloatArray(), 1e-4f);
        }
    }

    @Test
    void aLibtorchErrorBecomesAnExceptionNamingTheShapesNotACrash() {
        try (NDManager m = TorchEngine.newManager()) {
            NDArray input = m.zeros(new Shape(1, 3, 8, 8));
            NDArray weight = m.zeros(new Shape(4, 5, 3, 3)); // 5 input channels for a 3-channel input
            NDArray bias = m.zeros(new Shape(4));
            IllegalStateException e = assertThrows(IllegalStateException.class, () -> fused.apply(input, weight, bias));
            assertTrue(e.getMessage().contains("(1, 3, 8, 8)") && e.getMessage().contains("(4, 5, 3, 3)"),
                    e.getMessage());
        }
    }

    @Test
    void theResultBelongsToTheInputsManagerAndIsFreedWithIt() {
        try (NDManager outer = TorchEngine.newManager()) {
            NDArray weight = outer.ones(new Shape(2, 1, 3, 3));
            NDArray bias = outer.zeros(new Shape(2));
            NDManager call = outer.newSubManager();
            NDArray out = fused.apply(call.ones(new Shape(1, 1, 4, 4)), weight, bias);
            assertEquals(call, out.getManager());
            assertEquals(2, call.getManagedArrays().size(), "input and result");
            call.close();
            assertTrue(out.isReleased());
        }
    }
}
