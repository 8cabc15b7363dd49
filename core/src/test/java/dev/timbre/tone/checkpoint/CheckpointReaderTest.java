package dev.timbre.tone.checkpoint;

import static dev.timbre.tone.checkpoint.TorchArchive.TensorSpec.contiguous;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.tone.checkpoint.TorchArchive.TensorSpec;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class CheckpointReaderTest {
    private static final Duration BOUND = Duration.ofSeconds(20);
    private static final AtomicInteger FILES = new AtomicInteger();

    @TempDir
    Path dir;

    /** A fresh name per archive: ZipFile caches open archives by path. */
    private Path file() {
        return dir.resolve("checkpoint-" + FILES.incrementAndGet() + ".pth");
    }

    private Path write(byte[] bytes) throws IOException {
        return Files.write(file(), bytes);
    }

    private Path write(TorchArchive archive) throws IOException {
        return archive.write(file());
    }

    private Path withPickle(byte[] pickle) throws IOException {
        return write(new TorchArchive("archive/").put("data.pkl", pickle));
    }

    /** Reads everything under ref_enc.* the way ConverterCheckpoint does, with a hard time bound. */
    private static Map<String, Tensor> readRefEnc(Path file) {
        return assertTimeoutPreemptively(BOUND,
                () -> CheckpointReader.readFloat32Tensors(file, "model", k -> k.startsWith("ref_enc.")));
    }

    /** The one error line reading {@code file} gives, with its leading "file name: " checked and removed. */
    private static String failure(Path file) {
        String message = assertTimeoutPreemptively(BOUND,
                () -> assertThrows(CheckpointException.class, () -> readRefEnc(file))).getMessage();
        String prefix = file.getFileName() + ": ";
        assertTrue(message.startsWith(prefix), message);
        assertFalse(message.contains("\n"), message);
        return message.substring(prefix.length());
    }

    private static float[] values(String storageKey, long... indexes) {
        float[] out = new float[indexes.length];
        for (int i = 0; i < indexes.length; i++) {
            out[i] = TorchArchive.valueOf(storageKey, indexes[i]);
        }
        return out;
    }

    @Nested
    class WellFormedArchives {
        @Test
        void viewsHonourOffsetStrideAndSharedStorage() throws IOException {
            Path file = write(TorchArchive.of("net_state_dict/", List.of(
                    contiguous("ref_enc.a", "0", 3, 4),
                    // a.t(): the same storage read column by column
                    new TensorSpec("ref_enc.at", "FloatStorage", "0", 12, 0, new long[] {4, 3}, new long[] {1, 4}),
                    // a[1, 1:3] reshaped: offset 5 into the same storage
                    new TensorSpec("ref_enc.slice", "FloatStorage", "0", 12, 5, new long[] {2}, new long[] {1}),
                    // a 0-d scalar and an empty tensor
                    new TensorSpec("ref_enc.scalar", "FloatStorage", "0", 12, 11, new long[] {}, new long[] {}),
                    new TensorSpec("ref_enc.empty", "FloatStorage", "0", 12, 0, new long[] {0, 4}, new long[] {4, 1}))));
            Map<String, Tensor> t = readRefEnc(file);

            assertArrayEquals(values("0", 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11), t.get("ref_enc.a").data());
            assertArrayEquals(new long[] {4, 3}, t.get("ref_enc.at").shape());
            assertArrayEquals(values("0", 0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11), t.get("ref_enc.at").data());
            assertArrayEquals(values("0", 5, 6), t.get("ref_enc.slice").data());
            assertArrayEquals(values("0", 11), t.get("ref_enc.scalar").data());
            assertArrayEquals(new long[] {}, t.get("ref_enc.scalar").shape());
            assertEquals(0, t.get("ref_enc.empty").data().length);
        }

        @Test
        void onlyTheStoragesOfKeptTensorsAreRead() throws IOException {
            TorchArchive archive = TorchArchive.of("checkpoint/", List.of(
                    contiguous("ref_enc.kept", "0", 2),
                    contiguous("dec.big", "1", 1000),
                    contiguous("flow.flag", "2", 4).withStorageClass("BoolStorage")));
            // dec.big's record says 1000 floats but holds 3 bytes; flow.flag's record is absent altogether
            archive.put("data/1", new byte[3]).remove("data/2");
            Path file = write(archive);
            Map<String, Tensor> t = readRefEnc(file);
            assertEquals(List.of("ref_enc.kept"), List.copyOf(t.keySet()));
            assertArrayEquals(values("0", 0, 1), t.get("ref_enc.kept").data());

            try (CheckpointReader reader = CheckpointReader.open(file, "model")) {
                assertEquals("bool", reader.tensors().get("flow.flag").dtype());
                assertArrayEquals(new long[] {1000}, reader.tensors().get("dec.big").shape());
                assertEquals("checkpoint-" + FILES.get() + ".pth: storage record checkpoint/data/1 of dec.big holds 3 "
                                + "bytes, but the pickle declares 1000 float32 elements (4000 bytes)",
                        assertThrows(CheckpointException.class, () -> reader.readFloat32("dec.big")).getMessage());
            }
        }

        @Test
        void deflatedRecordsAndATorch2ByteorderRecordAreAccepted() throws IOException {
            Path file = write(TorchArchive.of("archive/", List.of(contiguous("ref_enc.w", "0", 2, 2)))
                    .put("byteorder", "little".getBytes(StandardCharsets.US_ASCII)).deflated());
            assertArrayEquals(values("0", 0, 1, 2, 3), readRefEnc(file).get("ref_enc.w").data());
        }

        @Test
        void aTopLevelStateDictCanBeReadWithoutAKey() throws IOException {
            // torch.save(model.state_dict()): the OrderedDict is the root object
            PickleWriter p = new PickleWriter().proto(2).global("collections", "OrderedDict").op(')').op('R')
                    .op('(').str("w").global("torch._utils", "_rebuild_tensor_v2").op('(')
                    .op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(1).op('t')
                    .op('Q').integer(0).tuple(1).tuple(1).raw(0x89)
                    .global("collections", "OrderedDict").op(')').op('R').op('t').op('R')
                    .op('u').op('.');
            Path file = write(new TorchArchive("x/").put("data.pkl", p.bytes())
                    .put("data/0", TorchArchive.floats(1, i -> 4.5f)));
            assertArrayEquals(new float[] {4.5f}, CheckpointReader.readFloat32Tensors(file, null, k -> true).get("w").data());
        }

        @Test
        void parametersAreReadAsTheirTensors() throws IOException {
            // torch.save(OrderedDict(w=nn.Parameter(torch.arange(6.).view(2, 3)))), opcodes as torch 1.13 writes them
            PickleWriter p = new PickleWriter().proto(2).global("collections", "OrderedDict").op(')').op('R')
                    .str("w").global("torch._utils", "_rebuild_parameter")
                    .global("torch._utils", "_rebuild_tensor_v2").op('(')
                    .op('(').str("storage").global("torch", "FloatStorage").str("0").str("cpu").integer(6).op('t')
                    .op('Q').integer(0).tuple(2, 3).tuple(3, 1).raw(0x89)
                    .global("collections", "OrderedDict").op(')').op('R').op('t').op('R')
                    .raw(0x88).global("collections", "OrderedDict").op(')').op('R').raw(0x87).op('R')
                    .op('s').op('.');
            Path file = write(new TorchArchive("param/").put("data.pkl", p.bytes())
                    .put("data/0", TorchArchive.floats(6, i -> (float) i)));
            Tensor w = CheckpointReader.readFloat32Tensors(file, null, k -> true).get("w");
            assertArrayEquals(new long[] {2, 3}, w.shape());
            assertArrayEquals(new float[] {0, 1, 2, 3, 4, 5}, w.data());
        }
    }

    @Nested
    class HostilePickles {
        @ParameterizedTest
        @CsvSource({
            "os, system", "posix, system", "builtins, eval", "__builtin__, getattr", "subprocess, Popen",
            // in Pyrolite's own constructor registry: still refused, we never consult it
            "copy_reg, _reconstructor", "builtins, set", "_codecs, encode",
            // torch names a state_dict never needs
            "torch, load", "torch._utils, _rebuild_qtensor", "torch.nn.modules.linear, Linear",
            "collections, defaultdict"})
        void anyOtherGlobalIsRefusedByName(String module, String name) throws IOException {
            byte[] pickle = new PickleWriter().proto(2).global(module, name).str("echo pwned").op('\u0085')
                    .op('R').op('.').bytes();
            assertEquals("refusing to unpickle global " + module + "." + name, failure(withPickle(pickle)));
        }

        @Test
        void stackGlobalIsCheckedToo() throws IOException {
            byte[] pickle = new PickleWriter().proto(4).str("os").str("system").raw(0x93).str("id").op('\u0085')
                    .op('R').op('.').bytes();
            assertEquals("refusing to unpickle global os.system", failure(withPickle(pickle)));
        }

        @Test
        void aGlobalInsideTheStateDictIsRefused() throws IOException {
            // a real-looking state_dict whose storage class is swapped for something else
            byte[] pickle = TorchArchive.stateDictPickle(List.of(contiguous("ref_enc.w", "0", 1)
                    .withStorageClass("QInt8Storage")));
            assertEquals("refusing to unpickle global torch.QInt8Storage", failure(withPickle(pickle)));
        }

        @ParameterizedTest
        @CsvSource({
            "105, INST resolves a class by itself",
            "111, OBJ",
            "76, protocol-0 LONG would parse a long decimal in quadratic time",
            "73, protocol-0 INT",
            "130, EXT1",
            "151, NEXT_BUFFER"})
        void opcodesTorchSaveNeverWritesAreRefused(int opcode, String why) throws IOException {
            byte[] pickle = new PickleWriter().proto(2).raw(opcode).rawBytes("os\nsystem\n".getBytes()).op('.').bytes();
            assertEquals(String.format("data.pkl uses pickle opcode 0x%02x near byte 2, which torch.save does not write", opcode), failure(withPickle(pickle)), why);
        }

        @Test
        void aLengthPrefixLargerThanThePickleAllocatesNothing() throws IOException {
            byte[] binunicode = new PickleWriter().proto(2).raw('X').int32(Integer.MAX_VALUE).op('.').bytes();
            assertEquals("malformed data.pkl near byte 2: a value claims 2147483647 bytes but only 1 are left",
                    failure(withPickle(binunicode)));
            byte[] binbytes8 = new PickleWriter().proto(4).raw(0x8e, 0, 0, 0, 0, 0, 0, 0, 0x40).op('.').bytes();
            assertTrue(failure(withPickle(binbytes8)).contains("a value claims 4611686018427387904 bytes"));
            byte[] negative = new PickleWriter().proto(2).raw('B').int32(-5).op('.').bytes();
            assertTrue(failure(withPickle(negative)).contains("a value claims -5 bytes"));
        }

        @Test
        void theNumberOfOpcodesIsBounded() throws IOException {
            byte[] pops = new byte[2 * RestrictedUnpickler.MAX_OPCODES];
            for (int i = 0; i < pops.length; i += 2) {
                pops[i] = 'N';
                pops[i + 1] = '0';
            }
            byte[] pickle = new PickleWriter().proto(2).rawBytes(pops).op('N').op('.').bytes();
            assertEquals("data.pkl has more than 2000000 pickle opcodes", failure(withPickle(pickle)));
        }

        @Test
        void aMarkBombHitsTheStackLimit() throws IOException {
            byte[] marks = new byte[RestrictedUnpickler.MAX_STACK_DEPTH + 10];
            Arrays.fill(marks, (byte) '(');
            byte[] pickle = new PickleWriter().proto(2).rawBytes(marks).op('.').bytes();
            assertEquals("data.pkl stack deeper than 1000000", failure(withPickle(pickle)));
        }

        @Test
        void aSelfContainingListAsADictKeyIsRefused() throws IOException {
            // l = []; l.append(l); {l: None}: Python calls it unhashable; Java would recurse in hashCode()
            byte[] pickle = new PickleWriter().proto(2).op('}').op(']').raw('q', 0).raw('h', 0).op('a').op('N')
                    .op('s').op('.').bytes();
            assertEquals("malformed data.pkl near byte 10: unsupported dict key type ArrayList", failure(withPickle(pickle)));
        }

        @Test
        void patternsThatAreQuadraticInPyroliteStayLinear() throws IOException {
            // a 300k-element list, then 500k one-item APPENDS: Pyrolite's own APPENDS trims (copies) the list each time
            PickleWriter p = new PickleWriter().proto(2).op(']').op('(');
            for (int i = 0; i < 300_000; i++) {
                p.raw('K', 1);
            }
            p.op('e');
            for (int i = 0; i < 500_000; i++) {
                p.op('(').raw('K', 1).op('e');
            }
            Path file = withPickle(p.op('.').bytes());
            // it unpickles (in well under the bound) to a list, which is not the dict holding 'model'
            assertEquals("top-level object is not a dict",
                    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> failure(file)));
        }

        @ParameterizedTest
        @CsvSource({"143, EMPTY_SET", "144, ADDITEMS", "145, FROZENSET", "49, POP_MARK"})
        void setsAndPopMarkAreRefused(int opcode, String name) throws IOException {
            byte[] pickle = new PickleWriter().proto(4).op('(').raw(opcode).op('.').bytes();
            assertEquals(String.format("data.pkl uses pickle opcode 0x%02x near byte 3, which torch.save does not write",
                    opcode), failure(withPickle(pickle)), name);
        }

        @Test
        void aPickleThatStopsEarlyOrUnderflowsIsMalformed() throws IOException {
            assertEquals("malformed data.pkl at its end (byte 3): premature end of file",
                    failure(withPickle(new PickleWriter().proto(2).op('}').bytes())));
            assertTrue(failure(withPickle(new PickleWriter().proto(2).op('R').op('.').bytes()))
                    .startsWith("malformed data.pkl near byte "));
            assertTrue(failure(withPickle(new PickleWriter().proto(2).op('t').op('.').bytes()))
                    .startsWith("malformed data.pkl near byte "));
        }

        @Test
        void malformedTensorRecordsAreNamed() throws IOException {
            byte[] notATuple = new PickleWriter().proto(2).op('}').str("model").op('}').str("ref_enc.w")
                    .str("nope").op('Q').op('s').op('s').op('.').bytes();
            assertTrue(failure(withPickle(notATuple)).endsWith(
                    "persistent id is not a ('storage', class, key, location, numel) tuple"));
            byte[] pathKey = TorchArchive.stateDictPickle(List.of(contiguous("ref_enc.w", "../../etc/passwd", 1)));
            assertTrue(failure(withPickle(pathKey)).endsWith("persistent id has an invalid storage key"));
            byte[] negative = TorchArchive.stateDictPickle(List.of(
                    new TensorSpec("ref_enc.w", "FloatStorage", "0", 4, -1, new long[] {2}, new long[] {1})));
            assertTrue(failure(withPickle(negative)).endsWith("storage offset is negative (-1)"));
            byte[] ragged = TorchArchive.stateDictPickle(List.of(
                    new TensorSpec("ref_enc.w", "FloatStorage", "0", 4, 0, new long[] {2, 2}, new long[] {1})));
            assertTrue(failure(withPickle(ragged)).endsWith("tensor has 2 sizes but 1 strides"));
        }

        @Test
        void buildOnAnythingButAnOrderedDictIsRefused() throws IOException {
            byte[] pickle = new PickleWriter().proto(2).op(']').op('}').op('b').op('.').bytes();
            assertTrue(failure(withPickle(pickle)).endsWith("BUILD is only supported on an OrderedDict with a dict state"));
        }
    }

    @Nested
    class HostileSizes {
        @Test
        void aHugeDeclaredStorageIsCheckedBeforeAnyAllocation() throws IOException {
            TorchArchive archive = TorchArchive.of("c/", List.of(contiguous("ref_enc.w", "0", 4)));
            archive.put("data.pkl", TorchArchive.stateDictPickle(List.of(contiguous("ref_enc.w", "0", 4)
                    .withNumel(1L << 40))));
            assertTrue(failure(write(archive)).endsWith(
                    "storage 0 of ref_enc.w declares 1099511627776 elements, over the limit of 268435456 bytes"));
        }

        @Test
        void aStorageRecordOfTheWrongSizeIsRejected() throws IOException {
            TorchArchive archive = TorchArchive.of("c/", List.of(contiguous("ref_enc.w", "0", 4)));
            archive.put("data/0", new byte[12]);
            assertTrue(failure(write(archive)).endsWith("storage record c/data/0 of ref_enc.w holds 12 bytes, but the "
                    + "pickle declares 4 float32 elements (16 bytes)"));
        }

        @Test
        void aViewBeyondItsStorageIsRejected() throws IOException {
            assertTrue(failure(write(TorchArchive.of("c/", List.of(
                    new TensorSpec("ref_enc.w", "FloatStorage", "0", 4, 1, new long[] {2, 2}, new long[] {2, 1})))))
                    .endsWith("ref_enc.w reaches element 4 of storage 0, which has 4"));
        }

        @Test
        void shapesThatOverflowOrExceedTheLimitAllocateNothing() throws IOException {
            assertTrue(failure(write(TorchArchive.of("c/", List.of(
                    new TensorSpec("ref_enc.w", "FloatStorage", "0", 1, 0, new long[] {1L << 40, 1L << 40},
                            new long[] {0, 0})))))
                    .endsWith("ref_enc.w has a shape or stride that overflows 64 bits"));
            // a stride-0 view: 2^30 elements over a 1-element storage
            assertTrue(failure(write(TorchArchive.of("c/", List.of(
                    new TensorSpec("ref_enc.w", "FloatStorage", "0", 1, 0, new long[] {1L << 30}, new long[] {0})))))
                    .endsWith("ref_enc.w has 1073741824 elements, over the limit of 67108864"));
        }

        @Test
        void aDataPklOverTheLimitIsNotRead() throws IOException {
            // 17 MiB of zeros deflates to a few KB: the declared size alone must stop it
            Path file = write(new TorchArchive("c/").put("data.pkl", new byte[17 << 20]).deflated());
            assertTrue(Files.size(file) < 100_000);
            assertTrue(failure(file).endsWith("c/data.pkl is 17825792 bytes, over the 16777216-byte limit"));
        }

        @Test
        void aMissingStorageRecordIsNamed() throws IOException {
            TorchArchive archive = TorchArchive.of("c/", List.of(contiguous("ref_enc.w", "0", 4)));
            archive.remove("data/0");
            assertTrue(failure(write(archive))
                    .endsWith("storage record c/data/0 of ref_enc.w is missing from the archive"));
        }

        @Test
        void keptTensorsMustBeFloat32() throws IOException {
            Path file = write(TorchArchive.of("c/", List.of(contiguous("ref_enc.w", "0", 4)
                    .withStorageClass("DoubleStorage"))));
            assertTrue(failure(file).endsWith("ref_enc.w has dtype float64, expected float32"));
        }
    }

    @Nested
    class BrokenArchives {
        private final List<TensorSpec> specs = List.of(contiguous("ref_enc.a", "0", 3, 4),
                contiguous("ref_enc.b", "1", 5), contiguous("dec.c", "2", 7));

        @Test
        void notAZipAtAll() throws IOException {
            assertEquals("not a PyTorch zip checkpoint (it does not start with PK\\x03\\x04)",
                    failure(write("GIF89a not a checkpoint".getBytes())));
            assertEquals("truncated zip archive (0 bytes)", failure(write(new byte[0])));
            assertEquals("legacy (non-zip) torch.save format is not supported; re-save it with torch >= "
                    + "1.6 default settings", failure(write(new PickleWriter().proto(2).raw(0x8a, 0x0a).bytes())));
        }

        @Test
        void theArchiveMustHoldExactlyOneRootDataPkl() throws IOException {
            byte[] pickle = TorchArchive.stateDictPickle(specs);
            assertEquals("no <root>/data.pkl in the archive; not a torch.save checkpoint",
                    failure(write(new TorchArchive("").put("data.pkl", pickle))));
            assertEquals("no <root>/data.pkl in the archive; not a torch.save checkpoint",
                    failure(write(new TorchArchive("a/b/").put("data.pkl", pickle))));
            assertEquals("2 data.pkl entries in the archive [a/data.pkl, b/data.pkl]; expected exactly one",
                    failure(write(new TorchArchive("a/").put("data.pkl", pickle).putAbsolute("b/data.pkl", pickle))));
        }

        @Test
        void aBigEndianArchiveIsRejected() throws IOException {
            Path file = write(TorchArchive.of("archive/", specs).put("byteorder", "big".getBytes()));
            assertEquals("byteorder is \"big\"; only \"little\" is supported", failure(file));
        }

        @Test
        void everyTruncationFailsCleanly() throws IOException {
            byte[] good = Files.readAllBytes(write(TorchArchive.of("checkpoint/", specs)));
            for (int length = 0; length < good.length; length++) {
                Path file = write(Arrays.copyOf(good, length));
                failure(file);
            }
        }

        @Test
        void everySingleByteFlipFailsCleanlyOrChangesNothingKept() throws IOException {
            Path goodFile = write(TorchArchive.of("checkpoint/", specs));
            byte[] good = Files.readAllBytes(goodFile);
            Map<String, Tensor> expected = readRefEnc(goodFile);
            int failures = 0;
            for (int i = 0; i < good.length; i++) {
                byte[] flipped = good.clone();
                flipped[i] ^= (byte) 0xff;
                Path file = write(flipped);
                Map<String, Tensor> got;
                try {
                    got = readRefEnc(file);
                } catch (CheckpointException e) {
                    assertTrue(e.getMessage().startsWith(file.getFileName() + ": "), e.getMessage());
                    failures++;
                    continue;
                }
                // flips in bytes that do not matter (timestamps, dec.c's record) must leave the kept tensors intact
                assertEquals(expected.keySet(), got.keySet(), "flip at " + i);
                for (String key : expected.keySet()) {
                    assertArrayEquals(expected.get(key).data(), got.get(key).data(), "flip at " + i);
                }
            }
            assertTrue(failures > good.length / 2, failures + " of " + good.length + " flips failed");
        }

        @Test
        void theRealFixtureFailsCleanlyWhenTruncatedOrFlipped() throws IOException {
            byte[] good = Files.readAllBytes(CheckpointFixtures.goodConverter().resolve("checkpoint.pth"));
            for (int length : new int[] {1, 3, 4, 30, 100, 2000, good.length / 3, good.length / 2, good.length - 23,
                    good.length - 1}) {
                failure(write(Arrays.copyOf(good, length)));
            }
            // data.pkl is the first record; a flip inside it or inside a ref_enc storage fails its CRC
            for (int offset : new int[] {200, 1000, good.length / 2}) {
                byte[] flipped = good.clone();
                flipped[offset] ^= 0x01;
                String message = failure(write(flipped));
                assertTrue(message.endsWith(" is corrupt (CRC mismatch)"), message);
            }
            assertFalse(readRefEnc(write(good)).isEmpty());
        }
    }
}
