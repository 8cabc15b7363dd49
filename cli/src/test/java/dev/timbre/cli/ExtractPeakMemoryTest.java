package dev.timbre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.testsupport.ChildJvm;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Peak resident memory of {@code ./timbre extract} on a hostile file against a normal clip, each in a JVM of its
 * own started as the launcher starts it (no -Xmx, serial GC, one PyTorch thread): a 200-byte FLAC whose STREAMINFO
 * claims ten minutes at 768 kHz must peak within {@link #MARGIN} of a normal small clip's process (it once sized a
 * 1.8 GB array from the claim, 2.0 GB RSS against 0.27 GB) and fail with exit code 3 and one line.
 * docs/reliability.md ("Memory bounded by the bytes present") quotes the figures this test prints.
 */
class ExtractPeakMemoryTest {
    private static final long MARGIN = 128L << 20;
    private static final Path FIXTURES = Path.of("..", "infra", "model", "fixtures").toAbsolutePath().normalize();
    private static final Path CONVERTER = FIXTURES.resolve("converter");
    private static final Path NORMAL_CLIP = FIXTURES.resolve("audio").resolve("voice_a_1.wav");
    /** From core's hostile corpus (core/src/test/resources/hostile); the tests run in cli/. */
    private static final Path HOSTILE_FLAC = Path.of("..", "core", "src", "test", "resources", "hostile", "audio",
            "flac_200_bytes_10_min_768khz.flac").toAbsolutePath().normalize();

    record Run(int exit, long peakBytes, String stdout, String stderr) {
    }

    @TempDir
    Path tmp;

    @Test
    void aTinyFlacClaimingTenMinutesAt768KiloHertzPeaksLikeANormalClip() throws Exception {
        assertEquals(200, Files.size(HOSTILE_FLAC));
        Run normal = extract(NORMAL_CLIP);
        Run hostile = extract(HOSTILE_FLAC);
        System.out.printf(Locale.ROOT, "extract peak RSS (VmHWM): normal clip %.1f MiB (%s, %d bytes), "
                + "hostile 200-byte FLAC %.1f MiB, difference %.1f MiB%n", normal.peakBytes() / 1048576.0,
                NORMAL_CLIP.getFileName(), Files.size(NORMAL_CLIP), hostile.peakBytes() / 1048576.0,
                (hostile.peakBytes() - normal.peakBytes()) / 1048576.0);

        assertEquals(ExitCodes.OK, normal.exit(), normal.stderr());
        assertTrue(normal.stdout().contains("\"embedding\""), normal.stdout());
        assertEquals(ExitCodes.BAD_INPUT, hostile.exit(), hostile.stderr());
        assertTrue(!hostile.stdout().contains("\"embedding\""), hostile.stdout());
        List<String> lines = hostile.stderr().strip().lines().toList(); // test logging may come first
        assertEquals("timbre extract: " + HOSTILE_FLAC + ": audio is truncated: header declares 600.0 s, "
                + "file holds 0.0 s", lines.get(lines.size() - 1));
        assertTrue(hostile.peakBytes() <= normal.peakBytes() + MARGIN, "hostile file peaked at "
                + (hostile.peakBytes() >> 20) + " MiB, the normal clip at " + (normal.peakBytes() >> 20) + " MiB");
    }

    /** {@code timbre extract --converter <fixture> file} in a child JVM with the launcher's options. */
    private Run extract(Path file) throws IOException, InterruptedException {
        Path out = tmp.resolve(file.getFileName() + ".out");
        Path err = tmp.resolve(file.getFileName() + ".err");
        // the launcher's options: the engine flags and the serial collector
        ChildJvm.Result r = ChildJvm.main(ExtractWithPeakMemory.class).engineFlags().jvmFlags("-XX:+UseSerialGC")
                .args("extract", "--mode", "extract-se", "--converter", CONVERTER.toString(), file.toString()).outputTo(out, err)
                .run(Duration.ofSeconds(180));
        String stderr = Files.readString(err);
        int marker = stderr.lastIndexOf("VmHWM_KIB=");
        assertTrue(marker >= 0, "no peak reported: " + stderr);
        long peak = Long.parseLong(stderr.substring(marker + "VmHWM_KIB=".length()).strip()) * 1024;
        return new Run(r.exit(), peak, r.stdout(), stderr.substring(0, marker));
    }
}
