package dev.timbre.testing;

import java.io.FileDescriptor;
import java.io.FileOutputStream;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Runs another main class in a JVM whose file descriptor 2 also carries what a native library writes there,
 * for the tests that must not care about it: libtorch's glog-style warning (the NNPACK line an unsupported CPU
 * prints on every convolution, whatever the JVM's logging says) written straight to the descriptor, once before
 * the main class starts and then every {@link #EVERY_MS} ms until the process ends.
 *
 * <pre>{@code java -cp ... dev.timbre.testing.NativeStderrNoise dev.timbre.lambda.LambdaInvokeMain event.json}</pre>
 */
public final class NativeStderrNoise {

    /** What libtorch 2.x writes on a CPU NNPACK does not support (c10's MessageLogger format). */
    public static final String LINE =
            "[W1202 12:00:00.000000000 NNPACK.cpp:57] Could not initialize NNPACK! Reason: Unsupported hardware.";

    static final long EVERY_MS = 50;

    private NativeStderrNoise() {
    }

    public static void main(String[] args) throws Exception {
        // Not System.err: that is the JVM's stream. A FileOutputStream on the descriptor writes unbuffered with
        // write(2), as native code does.
        FileOutputStream fd2 = new FileOutputStream(FileDescriptor.err);
        byte[] line = (LINE + "\n").getBytes(StandardCharsets.US_ASCII);
        fd2.write(line);
        Thread noise = new Thread(() -> {
            try {
                while (true) {
                    Thread.sleep(EVERY_MS);
                    fd2.write(line);
                }
            } catch (InterruptedException | IOException e) {
                // the process is ending
            }
        }, "native-stderr-noise");
        noise.setDaemon(true);
        noise.start();
        Method main = Class.forName(args[0]).getMethod("main", String[].class);
        main.invoke(null, (Object) Arrays.copyOfRange(args, 1, args.length));
    }
}
