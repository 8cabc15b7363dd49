package dev.timbre.cli;

import dev.timbre.testing.ProcStatus;
import java.io.IOException;

/**
 * {@code timbre extract} in a process of its own that reports its peak resident set: runs {@link TimbreCli} with
 * the arguments, then prints {@code VmHWM_KIB=<n>} (from /proc/self/status) as the last line on stderr and exits
 * with the CLI's exit code. Started by {@link ExtractPeakMemoryTest}.
 */
public final class ExtractWithPeakMemory {

    private ExtractWithPeakMemory() {
    }

    public static void main(String[] args) throws IOException {
        int exit = TimbreCli.execute(args);
        System.err.println("VmHWM_KIB=" + ProcStatus.kib("VmHWM"));
        System.exit(exit);
    }
}
