package dev.timbre.hostile;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.timbre.audio.AudioLimits;
import dev.timbre.audio.AudioLoader;
import dev.timbre.audio.InvalidAudioException;
import dev.timbre.audio.LoadedAudio;
import dev.timbre.pipeline.PipelineHarness;
import dev.timbre.testing.ProcStatus;
import dev.timbre.tone.Extraction;
import dev.timbre.tone.ToneColorExtractor;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.ConcurrentHashMap;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every file of the hostile audio corpus goes through {@link AudioLoader} with the production limits
 * ({@link AudioLimits#DEFAULT}: 50 MiB, 600 s) and ends in its documented class: {@code permanent} is an
 * {@link InvalidAudioException} whose one-line message contains the manifest's error; {@code ok} decodes and the
 * real {@link ToneColorExtractor} (fixture converter) turns it into 256 finite floats.
 *
 * <p>Bounds per file: {@link #TIME_BOUND} of wall time, and heap allocated by the decoding thread (an upper bound
 * of its peak heap, read with {@code ThreadMXBean.getThreadAllocatedBytes}) within
 * {@code 16 MiB + 64 × file size}. Native memory (PyTorch's, mostly) is checked for growth across repeated
 * extraction of the decodable files, read from the process's resident set.
 */
class HostileAudioTest {
    private static final Duration TIME_BOUND = Duration.ofSeconds(10);
    private static final long FIXED_ALLOCATION_BOUND = 16L << 20;
    private static final long ALLOCATION_PER_INPUT_BYTE = 64;

    private static final AudioLoader LOADER = new AudioLoader(AudioLimits.DEFAULT);
    private static final ConcurrentHashMap<String, String> MEASURED = new ConcurrentHashMap<>();

    static List<HostileCorpus.Case> corpus() throws IOException {
        return HostileCorpus.readManifest(HostileCorpus.ROOT.resolve("audio"));
    }

    @TestFactory
    Stream<DynamicTest> everyFileEndsInItsDocumentedClass() throws IOException {
        return corpus().stream().map(c -> DynamicTest.dynamicTest(c.file() + " -> " + c.expected(), () -> check(c)));
    }

    private static void check(HostileCorpus.Case c) {
        assertTimeoutPreemptively(TIME_BOUND, () -> {
            String outcome = "ok";
            long before = allocatedBytes();
            long start = System.nanoTime();
            if (c.expected().equals("permanent")) {
                InvalidAudioException e = assertThrows(InvalidAudioException.class, () -> LOADER.load(c.bytes(), 22050),
                        c.file() + " (" + c.why() + ") must be rejected");
                outcome = e.getMessage();
                assertOneLine(c, e.getMessage());
                assertTrue(e.getMessage().contains(c.error()),
                        c.file() + ": expected an error containing \"" + c.error() + "\", was \"" + e.getMessage() + "\"");
            } else if (c.expected().equals("ok")) {
                LoadedAudio audio = LOADER.load(c.bytes(), 22050);
                assertEquals(22050, audio.sampleRate());
                assertTrue(audio.samples().length >= AudioLimits.MIN_SAMPLES);
            } else {
                fail("unknown class " + c.expected() + " for " + c.file());
            }
            long nanos = System.nanoTime() - start;
            long allocated = allocatedBytes() - before;
            long bound = FIXED_ALLOCATION_BOUND + ALLOCATION_PER_INPUT_BYTE * c.bytes().length;
            MEASURED.put(c.file(), String.format(Locale.ROOT, "%7d bytes  %6.1f ms  %8.1f KiB allocated  %s",
                    c.bytes().length, nanos / 1e6, allocated / 1024.0, outcome));
            assertTrue(allocated <= bound, c.file() + ": allocated " + allocated + " bytes decoding, bound " + bound);
        }, c.file() + " took longer than " + TIME_BOUND);
    }

    private static void assertOneLine(HostileCorpus.Case c, String message) {
        assertTrue(message != null && !message.isBlank(), c.file() + ": error message is empty");
        assertFalse(message.contains("\n") || message.contains("\r"), c.file() + ": error is not one line: " + message);
        assertFalse(message.contains("\tat ") || message.contains("Exception:"),
                c.file() + ": error carries a stack trace or exception text: " + message);
        assertTrue(message.length() <= 300, c.file() + ": error of " + message.length() + " chars");
    }

    @Test
    void decodableFilesEmbedAndRepeatedExtractionDoesNotGrowNativeMemory() throws IOException {
        ToneColorExtractor extractor = PipelineHarness.extractor();
        List<HostileCorpus.Case> decodable = new ArrayList<>();
        for (HostileCorpus.Case c : corpus()) {
            if (c.expected().equals("ok")) {
                decodable.add(c);
            }
        }
        assertTrue(decodable.size() >= 8, "the corpus keeps decodable hostile files");
        assertTimeoutPreemptively(Duration.ofSeconds(90), () -> {
            extractAll(extractor, decodable); // warm: converters, allocator pools
            long rssWarm = ProcStatus.residentBytes();
            for (int round = 0; round < 3; round++) {
                extractAll(extractor, decodable);
            }
            long growth = ProcStatus.residentBytes() - rssWarm;
            System.out.printf(Locale.ROOT, "hostile audio: %d decodable files x 3 rounds, RSS growth %.1f MiB%n",
                    decodable.size(), growth / 1048576.0);
            assertTrue(growth < 128L << 20, "resident memory grew by " + (growth >> 20)
                    + " MiB over 3 rounds of " + decodable.size() + " extractions (a native leak?)");
        });
    }

    private static void extractAll(ToneColorExtractor extractor, List<HostileCorpus.Case> cases) {
        for (HostileCorpus.Case c : cases) {
            Extraction e = extractor.extract(c.bytes());
            assertEquals(256, e.embedding().length, c.file());
            for (float v : e.embedding()) {
                assertTrue(Float.isFinite(v), c.file() + ": non-finite embedding value");
            }
        }
    }

    @AfterAll
    static void printMeasurements() {
        StringBuilder table = new StringBuilder("hostile audio corpus (file, size, time, heap allocated):\n");
        MEASURED.entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
                .forEach(e -> table.append(String.format(Locale.ROOT, "  %-40s %s%n", e.getKey(), e.getValue())));
        System.out.print(table);
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean()).getCurrentThreadAllocatedBytes();
    }
}
