package dev.timbre.fuzz;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.timbre.tone.checkpoint.CheckpointException;
import dev.timbre.tone.checkpoint.CheckpointMemoryTest;
import dev.timbre.tone.checkpoint.ConverterCheckpoint;
import dev.timbre.tone.checkpoint.ConverterConfig;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Random;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Generated damage to an OpenVoice converter directory through {@link ConverterCheckpoint#load}: mutated
 * {@code data.pkl} pickles re-packed with valid CRCs (so the restricted unpickler sees every mutation), mutated
 * zip structure (local headers, central directory) and mutated {@code config.json}. The only exception that
 * escapes is {@link CheckpointException}, one line; a load that succeeds returns exactly the 26 ref_enc tensors;
 * and reading every tensor of the mutated archive allocates within the bound of {@link CheckpointMemoryTest}.
 */
class CheckpointFuzzTest {
    private static final Duration PER_INPUT = Duration.ofSeconds(5);
    private static final Path CONVERTER = Path.of("..", "infra", "model", "fixtures", "converter");

    private static Map<String, byte[]> entries;
    private static byte[] archive;
    private static byte[] config;

    @TempDir
    Path dir;

    @BeforeAll
    static void readFixture() throws IOException {
        archive = Files.readAllBytes(CONVERTER.resolve(ConverterCheckpoint.CHECKPOINT_FILE));
        config = Files.readAllBytes(CONVERTER.resolve(ConverterCheckpoint.CONFIG_FILE));
        entries = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(CONVERTER.resolve(ConverterCheckpoint.CHECKPOINT_FILE).toFile())) {
            for (Enumeration<? extends ZipEntry> e = zip.entries(); e.hasMoreElements(); ) {
                ZipEntry entry = e.nextElement();
                entries.put(entry.getName(), zip.getInputStream(entry).readAllBytes());
            }
        }
    }

    @Test
    void mutatedPicklesWithValidChecksums() {
        String pkl = entries.keySet().stream().filter(n -> n.endsWith("/data.pkl")).findFirst().orElseThrow();
        Fuzz.forAll("checkpoint: mutated data.pkl", 120, PER_INPUT, r -> {
            Map<String, byte[]> mutated = new LinkedHashMap<>(entries);
            mutated.put(pkl, r.nextInt(10) == 0 ? Fuzz.randomBytes(r, 4096) : Fuzz.mutate(entries.get(pkl), r, 4096));
            writeZip(dir.resolve(ConverterCheckpoint.CHECKPOINT_FILE), mutated);
            Files.write(dir.resolve(ConverterCheckpoint.CONFIG_FILE), config);
            load();
        });
    }

    @Test
    void mutatedZipStructure() {
        Fuzz.forAll("checkpoint: mutated zip structure", 120, PER_INPUT, r -> {
            byte[] damaged = archive.clone();
            int count = 1 + r.nextInt(8);
            for (int i = 0; i < count; i++) {
                // the central directory and end record sit in the last few KB; local headers and data.pkl first
                int at = r.nextBoolean() ? damaged.length - 1 - r.nextInt(8192) : r.nextInt(8192);
                damaged[at] = (byte) (r.nextBoolean() ? Fuzz.interesting(r) : r.nextInt(256));
            }
            if (r.nextInt(8) == 0) {
                damaged = java.util.Arrays.copyOf(damaged, r.nextInt(damaged.length));
            }
            Files.write(dir.resolve(ConverterCheckpoint.CHECKPOINT_FILE), damaged);
            Files.write(dir.resolve(ConverterCheckpoint.CONFIG_FILE), config);
            load();
        });
    }

    @Test
    void mutatedConfigJson() throws IOException {
        Files.write(dir.resolve(ConverterCheckpoint.CHECKPOINT_FILE), archive);
        Fuzz.forAll("checkpoint: mutated config.json", 400, PER_INPUT, r -> {
            byte[] json = r.nextInt(4) == 0 ? textMutation(r) : Fuzz.mutate(config, r, config.length);
            Path path = dir.resolve(ConverterCheckpoint.CONFIG_FILE);
            Files.write(path, json);
            try {
                ConverterConfig.read(path);
            } catch (CheckpointException e) {
                Fuzz.assertOneLine("CheckpointException", e.getMessage(), 600);
            }
        });
    }

    /** Replaces one number of the config with an extreme one (still valid JSON). */
    private static byte[] textMutation(Random r) {
        String text = new String(config, StandardCharsets.UTF_8);
        String[] extremes = {"0", "-1", "1e309", "2147483648", "9223372036854775808", "0.5", "null", "\"x\"", "[]",
            "{}", "1e-320", "-0"};
        java.util.regex.Matcher m = java.util.regex.Pattern.compile("-?\\d+(\\.\\d+)?([eE][-+]?\\d+)?").matcher(text);
        java.util.List<int[]> numbers = new java.util.ArrayList<>();
        while (m.find()) {
            numbers.add(new int[] {m.start(), m.end()});
        }
        int[] n = numbers.get(r.nextInt(numbers.size()));
        return (text.substring(0, n[0]) + extremes[r.nextInt(extremes.length)] + text.substring(n[1]))
                .getBytes(StandardCharsets.UTF_8);
    }

    private void load() {
        CheckpointMemoryTest.assertReadWithinBound(dir.resolve(ConverterCheckpoint.CHECKPOINT_FILE));
        try {
            ConverterCheckpoint checkpoint = ConverterCheckpoint.load(dir);
            assertEquals(ConverterCheckpoint.expectedRefEncShapes(checkpoint.config()).keySet(),
                    checkpoint.refEnc().keySet(), "a successful load holds exactly the ref_enc tensors");
        } catch (CheckpointException e) {
            Fuzz.assertOneLine("CheckpointException", e.getMessage(), 600);
        }
    }

    /** Writes entries uncompressed with correct sizes and CRCs (as torch.save does). */
    private static void writeZip(Path file, Map<String, byte[]> content) throws IOException {
        try (OutputStream out = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(out)) {
            for (Map.Entry<String, byte[]> e : content.entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey());
                entry.setMethod(ZipEntry.STORED);
                entry.setSize(e.getValue().length);
                entry.setCompressedSize(e.getValue().length);
                CRC32 crc = new CRC32();
                crc.update(e.getValue());
                entry.setCrc(crc.getValue());
                zip.putNextEntry(entry);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
    }
}
