package dev.timbre.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Fields of {@code /proc/self/status}: this process's resident set (heap, PyTorch's native memory, the rest). */
public final class ProcStatus {

    private ProcStatus() {
    }

    /** A field in KiB, such as {@code VmRSS} or {@code VmHWM}. */
    public static long kib(String key) throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith(key + ":")) {
                return Long.parseLong(line.replaceAll("\\D+", ""));
            }
        }
        throw new IllegalStateException(key + " not in /proc/self/status");
    }

    /** {@code VmRSS} in bytes. */
    public static long residentBytes() throws IOException {
        return kib("VmRSS") * 1024;
    }
}
