package dev.timbre.tone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.testing.ChildProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * libtorch's own output, which goes to file descriptor 2 past logback: off by default on a started engine,
 * back with {@code TORCH_CPP_LOG_LEVEL}, and NNPACK (whose failed start on some CPUs logged a warning per
 * convolution) never used.
 */
class LibTorchSettingsTest {

    private static final Duration CHILD_TIMEOUT = Duration.ofMinutes(2);

    @Test
    void theStartedEngineHasNnpackOffAndLogsErrorsOnly() {
        LibTorchSettings natives = TorchEngine.nativeSettings();

        assertFalse(natives.nnpackEnabled(), "NNPACK is never initialised, on any CPU");
        assertEquals(LibTorchSettings.LOG_LEVEL_ERROR, natives.logLevel(), "c10 prints errors only");
    }

    @Test
    void aRealLibtorchWarningStaysOffStderrByDefault() throws Exception {
        Map<String, String> env = new HashMap<>();
        env.put("TORCH_CPP_LOG_LEVEL", null);

        ChildProcess.Result r = ChildProcess.run(ChildProcess.java(TorchWarningMain.class.getName()), env,
                Path.of("."), CHILD_TIMEOUT);

        assertEquals(0, r.exit(), r.describe());
        assertTrue(r.stdout().contains("stft done"), r.describe());
        assertEquals("", r.stderr(), "libtorch wrote to stderr: " + r.describe());
    }

    @Test
    void torchCppLogLevelBringsLibtorchsWarningsBack() throws Exception {
        // the other half of the test above: the call really warns, and the documented variable works under DJL
        ChildProcess.Result r = ChildProcess.run(ChildProcess.java(TorchWarningMain.class.getName()),
                Map.of("TORCH_CPP_LOG_LEVEL", "WARNING"), Path.of("."), CHILD_TIMEOUT);

        assertEquals(0, r.exit(), r.describe());
        assertTrue(r.stdout().contains("stft done"), r.describe());
        assertTrue(r.stderr().lines().anyMatch(l -> l.matches("^\\[W\\d{4} .*SpectralOps\\.cpp:\\d+\\] Warning: stft.*")),
                "libtorch's glog-style warning on stderr: " + r.describe());
    }
}
