package dev.timbre.tone.checkpoint;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.tone.checkpoint.TorchArchive.TensorSpec;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The memory property of the checkpoint loader: reading a checkpoint of {@code n} bytes (opening it, unpickling
 * its data.pkl and materialising every float32 tensor) allocates at most {@link #PER_BYTE} × n + {@link #FIXED}
 * bytes on the reading thread, whatever its pickle and zip headers declare. The constant is that of the worst
 * legal input: a data.pkl of opcodes that each push a new object (about {@value #PER_BYTE} bytes of Java objects
 * per pickle byte); tensors cost 4 bytes per stored byte (the record) plus their floats, at most
 * {@code 2 × n + 16 MiB} in all. {@code CheckpointFuzzTest}
 * applies the same bound to its mutated archives; docs/reliability.md states it with the figures printed here.
 */
public class CheckpointMemoryTest {
    /** Bytes allocated per byte of the archive, at most (the pickle's objects dominate). */
    public static final long PER_BYTE = 96;
    /** Bytes allocated whatever the archive: zip directory, unpickler, buffers. */
    public static final long FIXED = 16L << 20;

    private static final Path CONVERTER = Path.of("..", "infra", "model", "fixtures", "converter");
    private static final AtomicInteger FILES = new AtomicInteger();
    private static final List<String> MEASURED = new ArrayList<>();

    @TempDir
    Path dir;

    @Test
    void theFixtureConverter() {
        long before = allocatedBytes();
        ConverterCheckpoint checkpoint = ConverterCheckpoint.load(CONVERTER);
        long allocated = allocatedBytes() - before;
        assertEquals(26, checkpoint.refEnc().size());
        assertWithinBound("fixture converter (load)", CONVERTER.resolve(ConverterCheckpoint.CHECKPOINT_FILE),
                allocated, "ok", true);
        check("fixture converter (every tensor)", CONVERTER.resolve(ConverterCheckpoint.CHECKPOINT_FILE));
    }

    @Test
    void aViewLargerThanItsStorageIsNotMaterialisedBeyondTheBudget() throws IOException {
        // a stride-0 view of the most elements a tensor may have, over a 1-element storage: 256 MiB from 1 KB
        check("stride-0 view of 2^26 elements", write(TorchArchive.of("c/", List.of(new TensorSpec("ref_enc.w",
                "FloatStorage", "0", 1, 0, new long[] {CheckpointReader.MAX_TENSOR_ELEMENTS}, new long[] {0})))));
    }

    @Test
    void aShapeBeyondItsStorageIsRefusedBeforeAllocating() throws IOException {
        check("shape of 2^26 elements over 4", write(TorchArchive.of("c/", List.of(new TensorSpec("ref_enc.w",
                "FloatStorage", "0", 4, 0, new long[] {CheckpointReader.MAX_TENSOR_ELEMENTS}, new long[] {1})))));
    }

    @Test
    void manyTensorsSharingOneStorage() throws IOException {
        List<TensorSpec> tied = new ArrayList<>();
        for (int i = 0; i < 200; i++) { // 200 views of one 1 MiB storage: 200 MiB from 1 MiB
            tied.add(TensorSpec.contiguous("ref_enc.w" + i, "0", 1 << 18));
        }
        check("200 tensors on one 1 MiB storage", write(TorchArchive.of("c/", tied)));
    }

    @Test
    void aDeflatedRecordThatInflatesFarBeyondItsSize() throws IOException {
        // 128 MiB of zeros deflate to 128 KB: the record is real, but 1000:1 is no checkpoint
        int numel = 32 << 20;
        TorchArchive archive = TorchArchive.of("c/", List.of(TensorSpec.contiguous("ref_enc.w", "0", 4)));
        archive.put("data.pkl", TorchArchive.stateDictPickle(List.of(TensorSpec.contiguous("ref_enc.w", "0", numel))));
        archive.put("data/0", new byte[numel * 4]);
        check("128 MiB record deflated", write(archive.deflated()));
    }

    @Test
    void aDeflatedPickleOfObjects() throws IOException {
        // 8 MiB of EMPTY_LIST opcodes, each a new list on the stack, deflated to a few KB
        byte[] pickle = new byte[8 << 20];
        java.util.Arrays.fill(pickle, (byte) ']');
        pickle[0] = (byte) 0x80;
        pickle[1] = 2;
        check("8 MiB pickle of lists, deflated", write(new TorchArchive("c/").put("data.pkl", pickle).deflated()));
    }

    @Test
    void storedPicklesOfTheCostliestOpcodes() throws IOException {
        // the opcodes that allocate the most per byte: new containers, each also memoized
        for (String ops : new String[] {"]", "}", ")", "}\u0094", "]\u0094", "(\u0085"}) {
            byte[] pickle = new byte[1 << 20];
            for (int i = 2; i < pickle.length; i++) {
                pickle[i] = (byte) ops.charAt((i - 2) % ops.length());
            }
            pickle[0] = (byte) 0x80;
            pickle[1] = 4;
            check("1 MiB pickle of " + ops.replace("\u0094", " MEMOIZE").replace("\u0085", "TUPLE1"),
                    write(new TorchArchive("c/").put("data.pkl", pickle)));
        }
    }

    private Path write(TorchArchive archive) throws IOException {
        return archive.write(dir.resolve("checkpoint-" + FILES.incrementAndGet() + ".pth"));
    }

    /** Reads every float32 tensor of {@code file} and checks the allocation against the bound (for other tests). */
    public static void assertReadWithinBound(Path file) {
        read("archive", file, false);
    }

    private static void check(String what, Path file) {
        read(what, file, true);
    }

    private static void read(String what, Path file, boolean print) {
        long before = allocatedBytes();
        String outcome;
        try {
            Map<String, Tensor> tensors = CheckpointReader.readFloat32Tensors(file, "model", k -> true);
            outcome = tensors.size() + " tensors";
        } catch (CheckpointException e) {
            outcome = e.getMessage();
        }
        assertWithinBound(what, file, allocatedBytes() - before, outcome, print);
    }

    private static void assertWithinBound(String what, Path file, long allocated, String outcome, boolean print) {
        long bytes;
        try {
            bytes = Files.size(file);
        } catch (IOException e) {
            throw new AssertionError(e);
        }
        long bound = PER_BYTE * bytes + FIXED;
        if (print) {
            MEASURED.add(String.format(Locale.ROOT, "  %-36s %,12d B archive %,14d B allocated  %s", what, bytes,
                    allocated, outcome.length() > 90 ? outcome.substring(0, 90) + "…" : outcome));
        }
        assertTrue(allocated <= bound, what + ": allocated " + allocated + " bytes reading a " + bytes
                + "-byte checkpoint, bound " + PER_BYTE + " x " + bytes + " + " + FIXED + " = " + bound + " ("
                + outcome + ")");
    }

    static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getCurrentThreadAllocatedBytes();
    }

    @AfterAll
    static void print() {
        System.out.println("checkpoint allocation:\n" + String.join("\n", MEASURED));
    }
}
