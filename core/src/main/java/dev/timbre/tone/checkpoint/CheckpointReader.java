package dev.timbre.tone.checkpoint;

import dev.timbre.tone.checkpoint.RestrictedUnpickler.StorageRef;
import dev.timbre.tone.checkpoint.RestrictedUnpickler.TensorRef;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;

/**
 * Reads tensors from a {@code torch.save} checkpoint in the zip format (torch ≥ 1.6 default): one
 * {@code <root>/data.pkl} describing the object graph, and one raw little-endian record {@code <root>/data/<key>}
 * per storage. The pickle is unpickled through {@link RestrictedUnpickler}, so only a state_dict's globals are
 * accepted; storages are read lazily, only for the tensors a caller asks for, so a 131 MB converter costs
 * the 3 MB of {@code ref_enc.*} it needs.
 *
 * <p>The file is untrusted. Every size that drives an allocation (data.pkl, storage records, tensor element
 * counts) is checked against a limit and against the bytes the archive really holds, and every record read is
 * CRC-checked, so a truncated, bit-flipped or hostile file fails with one {@link CheckpointException} that starts
 * with the file name. Memory grows with the archive's bytes, not with what its headers declare: a record may
 * inflate to at most {@link #MAX_INFLATE_RATIO} times its compressed size (torch writes records stored, 1:1), a
 * tensor is allocated only after its view and storage record are checked, and the tensors one reader
 * materialises (views can repeat or broadcast a storage) hold at most {@link #MAX_MATERIALISED_PER_ARCHIVE_BYTE}
 * times the archive's size plus {@link #MATERIALISED_ALLOWANCE} bytes.
 *
 * <p>Use: {@code try (var reader = CheckpointReader.open(path, "model")) { reader.tensors(); reader.readFloat32(k); }}.
 * Not thread-safe.
 */
public final class CheckpointReader implements AutoCloseable {
    /** A 486-key OpenVoice converter's data.pkl is ~60 KB. */
    public static final int MAX_PICKLE_BYTES = 16 << 20;
    /** Upper bound for one storage record we read; the largest ref_enc weight is 1.7 MB. */
    public static final long MAX_STORAGE_BYTES = 256L << 20;
    /** Upper bound for one materialised tensor (a stride-0 view can be larger than its storage). */
    public static final long MAX_TENSOR_ELEMENTS = 64L << 20;
    /** Upper bound for all storage bytes one reader reads. */
    public static final long MAX_TOTAL_READ_BYTES = 512L << 20;
    /**
     * Most bytes a compressed record may inflate to per compressed byte. torch.save stores records uncompressed;
     * a re-zipped checkpoint of float weights deflates to about 1:1.1, so 16:1 refuses only zip bombs.
     */
    public static final int MAX_INFLATE_RATIO = 16;
    /** Small records (version, byteorder, a tiny data.pkl) may inflate this much whatever their ratio. */
    static final long INFLATE_ALLOWANCE = 64 << 10;
    /**
     * Most tensor bytes one reader materialises per byte of the archive: a view repeats or broadcasts (stride 0)
     * its storage only so often; shared (tied) weights read twice stay within it.
     */
    public static final int MAX_MATERIALISED_PER_ARCHIVE_BYTE = 2;
    /** Tensor bytes a reader may materialise whatever the archive's size (small broadcast views). */
    public static final long MATERIALISED_ALLOWANCE = 16L << 20;

    private static final byte[] ZIP_MAGIC = {'P', 'K', 3, 4};
    private static final Pattern DATA_PKL = Pattern.compile("[^/]+/data\\.pkl");

    private final String fileName;
    private final ZipFile zip;
    private final String root;
    private final Map<String, Object> stateDict;
    private final Map<StorageRef, FloatBuffer> float32Storages = new HashMap<>();
    private final long archiveBytes;
    private long bytesRead;
    private long bytesMaterialised;

    /**
     * What the pickle says about one tensor, before any of its data is read.
     *
     * @param name  state_dict key
     * @param dtype torch's name for the element type, e.g. {@code float32}
     * @param shape dimensions, outermost first
     */
    public record TensorInfo(String name, String dtype, long[] shape) {
        public String shapeString() {
            return Arrays.toString(shape);
        }
    }

    private CheckpointReader(String fileName, ZipFile zip, long archiveBytes, String root,
            Map<String, Object> stateDict) {
        this.fileName = fileName;
        this.archiveBytes = archiveBytes;
        this.zip = zip;
        this.root = root;
        this.stateDict = stateDict;
    }

    /**
     * Opens a checkpoint and unpickles its data.pkl (no tensor data is read yet).
     *
     * @param file         the {@code .pth} file; its file name prefixes every error message
     * @param stateDictKey the top-level dict entry holding the state_dict ({@code "model"} for OpenVoice), or
     *                     {@code null} when the top-level object is the state_dict itself
     * @throws CheckpointException if the file is missing, not a zip checkpoint (legacy torch.save included),
     *                             truncated, corrupt, hostile, or has no such state_dict
     */
    public static CheckpointReader open(Path file, String stateDictKey) {
        String fileName = String.valueOf(file.getFileName());
        checkZipMagic(file, fileName);
        ZipFile zip;
        long archiveBytes;
        try {
            archiveBytes = Files.size(file);
            zip = new ZipFile(file.toFile());
        } catch (IOException | RuntimeException e) {
            throw new CheckpointException(fileName + ": truncated or corrupt zip archive (" + e.getMessage() + ")", e);
        }
        try {
            String root = findRoot(zip, fileName);
            checkByteOrder(zip, root, fileName, archiveBytes);
            ZipEntry pklEntry = zip.getEntry(root + "data.pkl");
            if (pklEntry.getSize() > MAX_PICKLE_BYTES) {
                throw new CheckpointException(fileName + ": " + root + "data.pkl is " + pklEntry.getSize()
                        + " bytes, over the " + MAX_PICKLE_BYTES + "-byte limit");
            }
            byte[] pickle = readEntry(zip, pklEntry, pklEntry.getSize(), fileName, archiveBytes);
            Object top = new RestrictedUnpickler(fileName).unpickle(pickle);
            Map<String, Object> stateDict = locateStateDict(top, stateDictKey, fileName);
            return new CheckpointReader(fileName, zip, archiveBytes, root, stateDict);
        } catch (RuntimeException e) {
            closeQuietly(zip);
            if (e instanceof CheckpointException ce) {
                throw ce;
            }
            // ZipFile reports some malformed entries (bad UTF-8 names, bad headers) as unchecked exceptions
            throw new CheckpointException(fileName + ": corrupt zip archive (" + e.getMessage() + ")", e);
        }
    }

    /**
     * Reads the float32 tensors whose keys pass {@code keep}; the storages of all other tensors are not read.
     *
     * @return key → tensor, in key order
     * @throws CheckpointException as {@link #open} and {@link #readFloat32}
     */
    public static Map<String, Tensor> readFloat32Tensors(Path file, String stateDictKey, Predicate<String> keep) {
        try (CheckpointReader reader = open(file, stateDictKey)) {
            Map<String, Tensor> out = new LinkedHashMap<>();
            for (String key : reader.tensors().keySet()) {
                if (keep.test(key)) {
                    out.put(key, reader.readFloat32(key));
                }
            }
            return out;
        }
    }

    /** Every key of the state_dict, tensors or not, sorted. */
    public Set<String> keys() {
        return Collections.unmodifiableSet(new TreeSet<>(stateDict.keySet()));
    }

    /** The tensors of the state_dict, sorted by key; non-tensor entries are left out. */
    public Map<String, TensorInfo> tensors() {
        Map<String, TensorInfo> out = new TreeMap<>();
        stateDict.forEach((key, value) -> {
            if (value instanceof TensorRef ref) {
                out.put(key, new TensorInfo(key, ref.storage().dtype().pythonName(), ref.size().clone()));
            }
        });
        return out;
    }

    /**
     * Reads one float32 tensor, honouring its storage offset and strides, as a contiguous row-major copy.
     *
     * @throws CheckpointException if the key is absent or not a tensor, its dtype is not float32, its view does
     *                             not fit its storage, its storage record is missing, of the wrong size or fails
     *                             its CRC, or a limit is exceeded
     */
    public Tensor readFloat32(String key) {
        Object value = stateDict.get(key);
        if (value == null) {
            throw new CheckpointException(fileName + ": " + key + " is missing");
        }
        if (!(value instanceof TensorRef ref)) {
            throw new CheckpointException(fileName + ": " + key + " is not a tensor");
        }
        StorageRef storage = ref.storage();
        if (storage.dtype() != TorchDtype.FLOAT32) {
            throw new CheckpointException(
                    fileName + ": " + key + " has dtype " + storage.dtype().pythonName() + ", expected float32");
        }
        long[] size = ref.size();
        long[] stride = ref.stride();
        long numel = 1;
        long lastIndex = ref.offset();
        try {
            for (int d = 0; d < size.length; d++) {
                numel = Math.multiplyExact(numel, size[d]);
                if (size[d] > 0) {
                    lastIndex = Math.addExact(lastIndex, Math.multiplyExact(size[d] - 1, stride[d]));
                }
            }
        } catch (ArithmeticException e) {
            throw new CheckpointException(fileName + ": " + key + " has a shape or stride that overflows 64 bits");
        }
        if (numel > MAX_TENSOR_ELEMENTS) {
            throw new CheckpointException(fileName + ": " + key + " has " + numel + " elements, over the limit of "
                    + MAX_TENSOR_ELEMENTS);
        }
        if (numel == 0) {
            return new Tensor(key, size.clone(), new float[0]);
        }
        // the view, then the storage record (bounded by the archive), then the budget: only then the array
        if (lastIndex >= storage.numel()) {
            throw new CheckpointException(fileName + ": " + key + " reaches element " + lastIndex + " of storage "
                    + storage.key() + ", which has " + storage.numel());
        }
        FloatBuffer source = float32Storage(storage, key);
        long budget = MAX_MATERIALISED_PER_ARCHIVE_BYTE * archiveBytes + MATERIALISED_ALLOWANCE;
        if (bytesMaterialised + numel * 4 > budget) {
            throw new CheckpointException(fileName + ": " + key + " (" + numel + " elements) would bring the tensors "
                    + "read to " + (bytesMaterialised + numel * 4) + " bytes, over the limit of "
                    + MAX_MATERIALISED_PER_ARCHIVE_BYTE + " x the archive's " + archiveBytes + " bytes + "
                    + MATERIALISED_ALLOWANCE + " (views that repeat their storage?)");
        }
        bytesMaterialised += numel * 4;
        float[] data = new float[(int) numel];
        gather(source, ref.offset(), size, stride, data);
        return new Tensor(key, size.clone(), data);
    }

    /** Copies a strided view into row-major order; bounds were checked by the caller. */
    private static void gather(FloatBuffer source, long offset, long[] size, long[] stride, float[] out) {
        if (isContiguous(size, stride)) {
            source.get((int) offset, out, 0, out.length);
            return;
        }
        int dims = size.length;
        long[] index = new long[dims];
        long position = offset;
        for (int i = 0; i < out.length; i++) {
            out[i] = source.get((int) position);
            for (int d = dims - 1; d >= 0; d--) {
                index[d]++;
                position += stride[d];
                if (index[d] < size[d]) {
                    break;
                }
                position -= stride[d] * size[d];
                index[d] = 0;
            }
        }
    }

    private static boolean isContiguous(long[] size, long[] stride) {
        long expected = 1;
        for (int d = size.length - 1; d >= 0; d--) {
            if (size[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= size[d];
        }
        return true;
    }

    private FloatBuffer float32Storage(StorageRef storage, String forKey) {
        FloatBuffer cached = float32Storages.get(storage);
        if (cached != null) {
            return cached;
        }
        String entryName = root + "data/" + storage.key();
        long bytes;
        try {
            bytes = Math.multiplyExact(storage.numel(), (long) TorchDtype.FLOAT32.elementSize());
        } catch (ArithmeticException e) {
            bytes = Long.MAX_VALUE;
        }
        if (bytes > MAX_STORAGE_BYTES || bytesRead + bytes > MAX_TOTAL_READ_BYTES) {
            throw new CheckpointException(fileName + ": storage " + storage.key() + " of " + forKey + " declares "
                    + storage.numel() + " elements, over the limit of " + MAX_STORAGE_BYTES + " bytes");
        }
        ZipEntry entry;
        try {
            entry = zip.getEntry(entryName);
        } catch (RuntimeException e) {
            throw new CheckpointException(fileName + ": cannot read " + entryName + " (" + e.getMessage() + ")", e);
        }
        if (entry == null) {
            throw new CheckpointException(fileName + ": storage record " + entryName + " of " + forKey
                    + " is missing from the archive");
        }
        if (entry.getSize() != bytes) {
            throw new CheckpointException(fileName + ": storage record " + entryName + " of " + forKey + " holds "
                    + entry.getSize() + " bytes, but the pickle declares " + storage.numel() + " float32 elements ("
                    + bytes + " bytes)");
        }
        byte[] raw = readEntry(zip, entry, bytes, fileName, archiveBytes);
        bytesRead += bytes;
        FloatBuffer floats = ByteBuffer.wrap(raw).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer();
        float32Storages.put(storage, floats);
        return floats;
    }

    @Override
    public void close() {
        float32Storages.clear();
        closeQuietly(zip);
    }

    private static void checkZipMagic(Path file, String fileName) {
        byte[] head;
        try (InputStream in = Files.newInputStream(file)) {
            head = in.readNBytes(ZIP_MAGIC.length);
        } catch (NoSuchFileException e) {
            throw new CheckpointException(fileName + ": not found (" + file + ")", e);
        } catch (IOException e) {
            throw new CheckpointException(fileName + ": cannot read (" + e.getMessage() + ")", e);
        }
        if (Arrays.equals(head, ZIP_MAGIC)) {
            return;
        }
        if (head.length > 0 && (head[0] & 0xff) == 0x80) {
            // a bare pickle stream (PROTO opcode): torch.save(..., _use_new_zipfile_serialization=False) or torch < 1.6
            throw new CheckpointException(fileName + ": legacy (non-zip) torch.save format is not supported; "
                    + "re-save it with torch >= 1.6 default settings");
        }
        if (head.length < ZIP_MAGIC.length
                && Arrays.equals(head, Arrays.copyOf(ZIP_MAGIC, head.length))) {
            throw new CheckpointException(fileName + ": truncated zip archive (" + head.length + " bytes)");
        }
        throw new CheckpointException(fileName + ": not a PyTorch zip checkpoint (it does not start with PK\\x03\\x04)");
    }

    /** torch names the archive's root folder after the file stem (torch 1.x) or "archive" (2.x): find it. */
    private static String findRoot(ZipFile zip, String fileName) {
        List<String> pickles = new ArrayList<>();
        zip.stream().map(ZipEntry::getName).filter(n -> DATA_PKL.matcher(n).matches()).forEach(pickles::add);
        if (pickles.isEmpty()) {
            throw new CheckpointException(fileName + ": no <root>/data.pkl in the archive; not a torch.save checkpoint");
        }
        if (pickles.size() > 1) {
            List<String> shown = pickles.subList(0, Math.min(3, pickles.size())).stream()
                    .map(RestrictedUnpickler::printable).toList();
            throw new CheckpointException(fileName + ": " + pickles.size() + " data.pkl entries in the archive "
                    + shown + "; expected exactly one");
        }
        String pkl = pickles.get(0);
        return pkl.substring(0, pkl.length() - "data.pkl".length());
    }

    private static void checkByteOrder(ZipFile zip, String root, String fileName, long archiveBytes) {
        ZipEntry entry = zip.getEntry(root + "byteorder");
        if (entry == null) {
            return; // torch 1.x does not write it; its files are little-endian
        }
        if (entry.getSize() > 16) {
            throw new CheckpointException(fileName + ": byteorder record is " + entry.getSize() + " bytes");
        }
        String order = new String(readEntry(zip, entry, entry.getSize(), fileName, archiveBytes),
                StandardCharsets.US_ASCII);
        if (!order.equals("little")) {
            throw new CheckpointException(fileName + ": byteorder is \"" + RestrictedUnpickler.printable(order)
                    + "\"; only \"little\" is supported");
        }
    }

    /**
     * Reads exactly {@code expected} bytes of an entry, checking length and CRC; never allocates more, and never
     * more than {@link #MAX_INFLATE_RATIO} times the bytes the entry occupies in the archive.
     */
    private static byte[] readEntry(ZipFile zip, ZipEntry entry, long expected, String fileName,
            long archiveBytes) {
        String name = RestrictedUnpickler.printable(entry.getName());
        if (expected < 0 || expected > Integer.MAX_VALUE - 8) {
            throw new CheckpointException(fileName + ": " + name + " has an invalid size (" + expected + ")");
        }
        long compressed = entry.getCompressedSize();
        if (compressed > archiveBytes) {
            throw new CheckpointException(fileName + ": " + name + " claims " + compressed
                    + " compressed bytes, more than the archive's " + archiveBytes);
        }
        if (expected > MAX_INFLATE_RATIO * Math.max(0, compressed) + INFLATE_ALLOWANCE) {
            throw new CheckpointException(fileName + ": " + name + " inflates " + compressed + " bytes to "
                    + expected + ", over the " + MAX_INFLATE_RATIO + ":1 limit (torch.save stores records "
                    + "uncompressed)");
        }
        byte[] data;
        try (InputStream in = zip.getInputStream(entry)) {
            // readNBytes grows its buffer with the bytes actually read, so a lying size costs nothing up front
            data = in.readNBytes((int) expected);
            if (data.length < expected) {
                throw new CheckpointException(fileName + ": " + name + " is truncated (" + data.length + " of "
                        + expected + " bytes)");
            }
            if (in.read() != -1) {
                throw new CheckpointException(fileName + ": " + name + " is longer than its declared " + expected
                        + " bytes");
            }
        } catch (IOException | RuntimeException e) {
            if (e instanceof CheckpointException ce) {
                throw ce;
            }
            throw new CheckpointException(fileName + ": cannot read " + name + " (" + e.getMessage() + ")", e);
        }
        if (entry.getCrc() != -1) {
            CRC32 crc = new CRC32();
            crc.update(data);
            if (crc.getValue() != entry.getCrc()) {
                throw new CheckpointException(fileName + ": " + name + " is corrupt (CRC mismatch)");
            }
        }
        return data;
    }

    private static Map<String, Object> locateStateDict(Object top, String stateDictKey, String fileName) {
        Object candidate = top;
        if (stateDictKey != null) {
            if (!(top instanceof Map<?, ?> topMap)) {
                throw new CheckpointException(fileName + ": top-level object is not a dict");
            }
            candidate = topMap.get(stateDictKey);
            if (candidate == null) {
                throw new CheckpointException(fileName + ": no '" + stateDictKey + "' entry at the top level");
            }
        }
        String what = stateDictKey == null ? "top-level object" : "'" + stateDictKey + "' entry";
        if (!(candidate instanceof Map<?, ?> map)) {
            throw new CheckpointException(fileName + ": " + what + " is not a state_dict");
        }
        Map<String, Object> out = new HashMap<>();
        for (Map.Entry<?, ?> e : map.entrySet()) {
            if (!(e.getKey() instanceof String key)) {
                throw new CheckpointException(fileName + ": " + what + " has a key that is not a string");
            }
            out.put(key, e.getValue());
        }
        return out;
    }

    private static void closeQuietly(ZipFile zip) {
        try {
            zip.close();
        } catch (IOException ignored) {
            // nothing was written; a failed close of a read-only file loses nothing
        }
    }
}
