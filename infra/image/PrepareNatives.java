import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Run once while an image is built (lambda/Dockerfile, infra/ecs/Dockerfile.gpu): starts DJL's PyTorch engine
 * with DJL_CACHE_DIR set, so the natives (432 MiB for the CPU build) are extracted into the image instead of into
 * /tmp on every cold start, then proves they landed there and work (a 4x4 matmul).
 *
 * <p>Compiled in the build stage against the function's lib/ (a JRE has no javac) and kept out of /var/task.
 * Exits 1 with one line if anything is off, which fails the image build.
 */
public final class PrepareNatives {

    private PrepareNatives() {
    }

    public static void main(String[] args) throws IOException {
        String cache = System.getenv("DJL_CACHE_DIR");
        if (cache == null || cache.isBlank()) {
            fail("DJL_CACHE_DIR is not set: the natives would land in a directory the runtime does not read");
        }
        if (!Boolean.getBoolean("ai.djl.offline")) {
            fail("ai.djl.offline is not true: set it in JAVA_TOOL_OPTIONS as the runtime will");
        }
        long t0 = System.nanoTime();
        Engine engine = Engine.getEngine("PyTorch");
        try (NDManager m = engine.newBaseManager()) {
            NDArray ones = m.ones(new Shape(4, 4));
            float sum = ones.matMul(ones).sum().getFloat();
            if (sum != 64f) {
                fail("PyTorch computed " + sum + " for a 4x4 matmul of ones, expected 64");
            }
        }
        Path root = Path.of(cache, "pytorch");
        List<Path> libraries;
        try (Stream<Path> files = Files.walk(root)) {
            libraries = files.filter(p -> p.getFileName().toString().endsWith(".so")).sorted().toList();
        }
        if (libraries.isEmpty()) {
            fail("no native library under " + root + " after the engine started");
        }
        System.out.printf("PyTorch %s ready in %d ms; %d native libraries under %s:%n", engine.getVersion(),
                (System.nanoTime() - t0) / 1_000_000, libraries.size(), root);
        for (Path p : libraries) {
            System.out.printf("  %s (%d bytes)%n", root.relativize(p), Files.size(p));
        }
    }

    private static void fail(String message) {
        System.err.println("PrepareNatives: " + message);
        System.exit(1);
    }
}
