package dev.timbre.tone.checkpoint;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.CRC32;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;

/**
 * Builds torch.save-format checkpoints in Java: a {@code {'model': OrderedDict(...)}} pickle in the exact
 * opcode sequence torch 1.13 writes (including the trailing {@code BUILD {'_metadata': ...}}), plus STORED
 * storage records, as in a real file. Tests add hostile variations on top.
 */
final class TorchArchive {
    /** One state_dict entry: a tensor view onto a storage record. */
    record TensorSpec(String key, String storageClass, String storageKey, long numel, long offset, long[] size,
                      long[] stride) {
        static TensorSpec contiguous(String key, String storageKey, long... size) {
            long[] stride = new long[size.length];
            long numel = 1;
            for (int d = size.length - 1; d >= 0; d--) {
                stride[d] = numel;
                numel *= size[d];
            }
            return new TensorSpec(key, "FloatStorage", storageKey, numel, 0, size, stride);
        }

        TensorSpec withStorageClass(String cls) {
            return new TensorSpec(key, cls, storageKey, numel, offset, size, stride);
        }

        TensorSpec withNumel(long n) {
            return new TensorSpec(key, storageClass, storageKey, n, offset, size, stride);
        }
    }

    private final String root;
    private final Map<String, byte[]> entries = new LinkedHashMap<>();
    private boolean deflate;

    TorchArchive(String root) {
        this.root = root;
    }

    /** The pickle torch writes for {@code torch.save({'model': state_dict}, f)}. */
    static byte[] stateDictPickle(List<TensorSpec> tensors) {
        PickleWriter p = new PickleWriter().proto(2).op('}').op('(').str("model");
        p.global("collections", "OrderedDict").op(')').op('R');
        p.op('(');
        for (TensorSpec t : tensors) {
            p.str(t.key()).global("torch._utils", "_rebuild_tensor_v2").op('(');
            p.op('(').str("storage").global("torch", t.storageClass()).str(t.storageKey()).str("cpu")
                    .integer(t.numel()).op('t').op('Q');
            p.integer(t.offset()).tuple(t.size()).tuple(t.stride()).raw(0x89); // NEWFALSE: requires_grad
            p.global("collections", "OrderedDict").op(')').op('R');
            p.op('t').op('R');
        }
        p.op('u');
        // state_dict._metadata arrives through BUILD after the items: the OrderedDict __setstate__ gotcha
        p.op('}').str("_metadata").global("collections", "OrderedDict").op(')').op('R')
                .op('(').str("").op('}').str("version").integer(1).op('s').op('u')
                .op('s').op('b');
        p.op('u').op('.');
        return p.bytes();
    }

    TorchArchive put(String relativeName, byte[] data) {
        entries.put(root + relativeName, data);
        return this;
    }

    TorchArchive remove(String relativeName) {
        entries.remove(root + relativeName);
        return this;
    }

    TorchArchive putAbsolute(String name, byte[] data) {
        entries.put(name, data);
        return this;
    }

    TorchArchive deflated() {
        deflate = true;
        return this;
    }

    /** data.pkl plus one little-endian float32 record per distinct storage key, filled by {@code valueOf(i)}. */
    static TorchArchive of(String root, List<TensorSpec> tensors) {
        TorchArchive a = new TorchArchive(root).put("data.pkl", stateDictPickle(tensors));
        for (TensorSpec t : tensors) {
            if (!a.entries.containsKey(root + "data/" + t.storageKey())) {
                a.put("data/" + t.storageKey(), floats(t.numel(), i -> valueOf(t.storageKey(), i)));
            }
        }
        return a.put("version", "3\n".getBytes());
    }

    /** The value of element i of a test storage: distinct per storage and position, exact in float32. */
    static float valueOf(String storageKey, long i) {
        return storageKey.hashCode() % 100 + i * 0.25f;
    }

    static byte[] floats(long n, java.util.function.LongFunction<Float> value) {
        ByteBuffer b = ByteBuffer.allocate((int) (n * 4)).order(ByteOrder.LITTLE_ENDIAN);
        for (long i = 0; i < n; i++) {
            b.putFloat(value.apply(i));
        }
        return b.array();
    }

    Path write(Path file) throws IOException {
        try (OutputStream fo = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(fo)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                ZipEntry entry = new ZipEntry(e.getKey());
                if (!deflate) {
                    // torch writes every record STORED; ZipOutputStream needs size and CRC up front for that
                    CRC32 crc = new CRC32();
                    crc.update(e.getValue());
                    entry.setMethod(ZipEntry.STORED);
                    entry.setSize(e.getValue().length);
                    entry.setCompressedSize(e.getValue().length);
                    entry.setCrc(crc.getValue());
                }
                zip.putNextEntry(entry);
                zip.write(e.getValue());
                zip.closeEntry();
            }
        }
        return file;
    }

    static List<TensorSpec> list(TensorSpec... specs) {
        return new ArrayList<>(List.of(specs));
    }
}
