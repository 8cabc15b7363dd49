package dev.timbre.tone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.net.URL;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class TorchEngineTest {

    @Test
    void engineComesUpOfflineFromTheBundledNativesWithOneThreadEach() throws Exception {
        Engine engine = TorchEngine.get();

        // In offline mode any download attempt throws ("Offline mode is enabled"), so an engine that is up
        // with the flag set downloaded nothing.
        assertEquals("true", System.getProperty("ai.djl.offline"), "offline flag");
        assertEquals("PyTorch", engine.getEngineName());
        assertEquals("2.7.1", engine.getVersion());
        assertEquals(1, JniUtils.getNumThreads(), "intra-op threads");
        assertEquals(1, JniUtils.getNumInteropThreads(), "inter-op threads");

        // The libtorch this process mapped is the one extracted from the pytorch-native-cpu jar: same size
        // as the jar entry, and the jar is on the class path.
        URL bundled = TorchEngine.class.getClassLoader().getResource("pytorch/cpu/linux-x86_64/libtorch_cpu.so");
        assertNotNull(bundled, "pytorch-native-cpu linux-x86_64 jar on the class path");
        assertTrue(bundled.toString().contains("pytorch-native-cpu-2.7.1-linux-x86_64.jar"), bundled.toString());
        long bundledSize = bundled.openConnection().getContentLengthLong();
        Path mapped = mappedLibrary("libtorch_cpu.so");
        assertTrue(mapped.toString().contains("2.7.1"), "cache folder names the bundled version: " + mapped);
        assertEquals(bundledSize, Files.size(mapped), "mapped " + mapped + " is the bundled library");
    }

    @Test
    void secondCallReturnsTheSameEngine() {
        assertTrue(TorchEngine.get() == TorchEngine.get());
    }

    private static Path mappedLibrary(String name) throws Exception {
        List<String> maps = Files.readAllLines(Path.of("/proc/self/maps"));
        return maps.stream()
                .map(line -> line.substring(line.indexOf('/') < 0 ? line.length() : line.indexOf('/')))
                .filter(path -> path.endsWith("/" + name))
                .map(Path::of)
                .findFirst()
                .orElseThrow(() -> new AssertionError(name + " not mapped"));
    }
}
