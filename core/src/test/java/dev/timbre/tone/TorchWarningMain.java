package dev.timbre.tone;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * A child JVM that makes libtorch itself warn: starts the engine as Timbre does ({@link TorchEngine}), then calls
 * stft with {@code return_complex=false}, which libtorch 2.7 answers with a deprecation warning through c10's
 * logger, the same path as the NNPACK warning (glog-style lines on file descriptor 2). Prints
 * {@code stft done} on stdout when the call returned.
 */
public final class TorchWarningMain {

    private TorchWarningMain() {
    }

    public static void main(String[] args) {
        try (NDManager manager = TorchEngine.newManager()) {
            NDArray signal = manager.randomNormal(new Shape(1, 4096));
            NDArray window = manager.ones(new Shape(512));
            NDArray spectrum = signal.stft(512, 128, true, window, false, false);
            System.out.println("stft done " + spectrum.getShape());
        }
    }
}
