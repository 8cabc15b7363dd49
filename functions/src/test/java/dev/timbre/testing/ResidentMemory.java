package dev.timbre.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The resident set of this process: heap, PyTorch's native memory and everything else. */
public final class ResidentMemory {

    private ResidentMemory() {
    }

    /** VmRSS from {@code /proc/self/status}, in bytes. */
    public static long bytes() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
