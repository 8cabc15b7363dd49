package dev.timbre.tone.checkpoint;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

import net.razorvine.pickle.IObjectConstructor;
import net.razorvine.pickle.Opcodes;
import net.razorvine.pickle.PickleException;
import net.razorvine.pickle.Unpickler;

/**
 * Unpickles the {@code data.pkl} of a {@code torch.save} archive, and nothing else: a state_dict needs only
 * {@code collections.OrderedDict}, {@code torch._utils._rebuild_tensor_v2}, {@code torch._utils._rebuild_parameter}
 * and the {@code torch.*Storage} classes, so every other global is refused before anything is constructed.
 *
 * <p>Pyrolite resolves globals in the package-private {@code load_global_sub}, reached from the GLOBAL and
 * STACK_GLOBAL opcodes (and INST, which names a class inline). We cannot override that method, so we override
 * {@link #dispatch(short)} instead: GLOBAL and STACK_GLOBAL are handled here against our own allow-list and never
 * reach Pyrolite's static constructor registry (which also holds {@code copy_reg._reconstructor} and friends, and
 * falls back to a {@code ClassDict} for unknown names); INST, OBJ and the other protocol-0 text opcodes, which
 * torch.save (protocol 2) never writes, are refused outright.
 *
 * <p>The pickle is untrusted, so each opcode that reads a length-prefixed value is checked against the bytes
 * actually left before Pyrolite allocates for it, and the number of opcodes, the stack depth and the memo are
 * bounded. Tensors are not materialised here: {@code persistent_load} yields a {@link StorageRef} (which archive
 * record, which dtype, how many elements) and {@code _rebuild_tensor_v2} a {@link TensorRef} (offset, shape,
 * strides), so the caller can read the storages of only the tensors it keeps.
 *
 * <p>Not thread-safe; one instance per data.pkl.
 */
final class RestrictedUnpickler extends Unpickler {
    /** A state_dict of ~500 tensors takes ~15k opcodes; this leaves room for far larger models. */
    static final int MAX_OPCODES = 2_000_000;
    static final int MAX_STACK_DEPTH = 1_000_000;
    static final int MAX_MEMO_ENTRIES = 1_000_000;
    static final int MAX_TENSOR_DIMS = 64;
    private static final int MAX_GLOBAL_NAME_BYTES = 256;
    private static final Pattern STORAGE_KEY = Pattern.compile("[A-Za-z0-9_.-]{1,64}");
    private static final boolean[] ALLOWED_OPCODES = allowedOpcodes();

    private final String fileName;
    private final Map<String, IObjectConstructor> allowedGlobals = new HashMap<>();
    private final Map<String, StorageRef> storages = new HashMap<>();
    private ByteArrayInputStream pickle;
    private int pickleLength;
    private int opcodeCount;
    /** Offset of the opcode being executed, for error messages. */
    private int opcodeStart;

    /** @param fileName the archive's file name, which prefixes every error message */
    RestrictedUnpickler(String fileName) {
        this.fileName = fileName;
        allowedGlobals.put("collections.OrderedDict", args -> {
            if (args.length != 0) {
                throw malformed("collections.OrderedDict called with " + args.length + " arguments, expected 0");
            }
            return new OrderedDictMap();
        });
        allowedGlobals.put("torch._utils._rebuild_tensor_v2", this::rebuildTensorV2);
        allowedGlobals.put("torch._utils._rebuild_parameter", this::rebuildParameter);
        for (TorchDtype dtype : TorchDtype.values()) {
            allowedGlobals.put("torch." + dtype.storageClass(), new StorageClass(dtype));
        }
    }

    /**
     * Unpickles one complete pickle.
     *
     * @return the root object: maps for dicts, {@link TensorRef} for tensors, boxed numbers, strings, Object[]
     * @throws CheckpointException for a refused global or opcode, a limit, or any malformed structure
     */
    Object unpickle(byte[] data) {
        pickle = new ByteArrayInputStream(data);
        pickleLength = data.length;
        try {
            return load(pickle);
        } catch (CheckpointException e) {
            throw e;
        } catch (IOException | RuntimeException | StackOverflowError e) {
            // StackOverflowError: defence in depth; content-hashed keys (a self-containing list) are refused already
            String what = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
            String where = pickle.available() == 0 ? "at its end (byte " + pickleLength + ")" : "near byte " + opcodeStart;
            throw new CheckpointException(fileName + ": malformed data.pkl " + where + ": " + what, e);
        } finally {
            close();
        }
    }

    private int position() {
        return pickle == null ? 0 : pickleLength - pickle.available();
    }

    @Override
    protected Object dispatch(short opcode) throws PickleException, IOException {
        opcodeStart = position() - 1;
        if (++opcodeCount > MAX_OPCODES) {
            throw new CheckpointException(fileName + ": data.pkl has more than " + MAX_OPCODES + " pickle opcodes");
        }
        if (opcode < 0 || opcode >= ALLOWED_OPCODES.length || !ALLOWED_OPCODES[opcode]) {
            throw new CheckpointException(String.format(
                    "%s: data.pkl uses pickle opcode 0x%02x near byte %d, which torch.save does not write",
                    fileName, opcode, opcodeStart));
        }
        switch (opcode) {
            case Opcodes.GLOBAL -> {
                String module = readGlobalNamePart();
                String name = readGlobalNamePart();
                stack.add(resolveGlobal(module, name));
                return NO_RETURN_VALUE;
            }
            case Opcodes.STACK_GLOBAL -> {
                Object name = stack.pop();
                Object module = stack.pop();
                if (!(module instanceof String m) || !(name instanceof String n)) {
                    throw malformed("STACK_GLOBAL needs two strings");
                }
                stack.add(resolveGlobal(m, n));
                return NO_RETURN_VALUE;
            }
            case Opcodes.BUILD -> {
                // Pyrolite would call any public __setstate__ by reflection; a state_dict only builds OrderedDicts
                Object state = stack.pop();
                if (!(stack.peek() instanceof OrderedDictMap target) || !(state instanceof Map<?, ?> dict)) {
                    throw malformed("BUILD is only supported on an OrderedDict with a dict state");
                }
                target.setState(dict);
                return NO_RETURN_VALUE;
            }
            case Opcodes.SETITEM -> {
                Object value = stack.pop();
                Object key = stack.pop();
                targetDict().put(hashableKey(key), value);
                return NO_RETURN_VALUE;
            }
            case Opcodes.SETITEMS -> {
                List<Object> items = stack.pop_all_since_marker();
                putPairs(targetDict(), items);
                return NO_RETURN_VALUE;
            }
            case Opcodes.DICT -> {
                Map<Object, Object> dict = new LinkedHashMap<>();
                putPairs(dict, stack.pop_all_since_marker());
                stack.add(dict);
                return NO_RETURN_VALUE;
            }
            case Opcodes.APPENDS -> {
                // Pyrolite's APPENDS calls trimToSize() on the list each time: quadratic for a hostile pickle
                List<Object> items = stack.pop_all_since_marker();
                if (!(stack.peek() instanceof List<?> list)) {
                    throw malformed("APPENDS on something that is not a list");
                }
                @SuppressWarnings("unchecked")
                List<Object> target = (List<Object>) list;
                target.addAll(items);
                return NO_RETURN_VALUE;
            }
            case Opcodes.BINSTRING, Opcodes.BINBYTES, Opcodes.BINUNICODE, Opcodes.LONG4 -> requireLengthPrefix(4);
            case Opcodes.BINUNICODE8, Opcodes.BINBYTES8, Opcodes.BYTEARRAY8 -> requireLengthPrefix(8);
            default -> {
                // the remaining allowed opcodes read fixed-size arguments or at most 255 bytes
            }
        }
        Object result = super.dispatch(opcode);
        if (stack.size() > MAX_STACK_DEPTH) {
            throw new CheckpointException(fileName + ": data.pkl stack deeper than " + MAX_STACK_DEPTH);
        }
        if (memo.size() > MAX_MEMO_ENTRIES) {
            throw new CheckpointException(fileName + ": data.pkl memo larger than " + MAX_MEMO_ENTRIES);
        }
        return result;
    }

    @SuppressWarnings("unchecked")
    private Map<Object, Object> targetDict() {
        if (!(stack.peek() instanceof Map<?, ?> map)) {
            throw malformed("SETITEM on something that is not a dict");
        }
        return (Map<Object, Object>) map;
    }

    private void putPairs(Map<Object, Object> dict, List<Object> items) {
        if (items.size() % 2 != 0) {
            throw malformed("odd number of items for a dict");
        }
        for (int i = 0; i < items.size(); i += 2) {
            dict.put(hashableKey(items.get(i)), items.get(i + 1));
        }
    }

    /**
     * Python only allows hashable dict keys, and a Java list, map or BigInteger key would be hashed by content
     * on every insert (quadratic, or a stack overflow for a self-containing list). Tuples (Object[]) hash by
     * identity in Java, which is cheap.
     */
    private Object hashableKey(Object key) {
        if (key == null || key instanceof String || key instanceof Integer || key instanceof Long
                || key instanceof Double || key instanceof Boolean || key instanceof Object[]) {
            return key;
        }
        throw malformed("unsupported dict key type " + key.getClass().getSimpleName());
    }

    /** Pyrolite allocates {@code new byte[len]} before reading; refuse a length the pickle cannot contain. */
    private void requireLengthPrefix(int width) throws IOException {
        pickle.mark(width);
        byte[] raw = pickle.readNBytes(width);
        pickle.reset();
        if (raw.length < width) {
            throw malformed("pickle ends inside a length prefix");
        }
        long length = 0;
        for (int i = width - 1; i >= 0; i--) {
            length = (length << 8) | (raw[i] & 0xff);
        }
        if (width == 4) {
            int signed = (int) length; // Pyrolite reads 4-byte lengths as signed
            length = signed;
        }
        long left = pickle.available() - width;
        if (length < 0 || length > left) {
            throw malformed("a value claims " + length + " bytes but only " + left + " are left");
        }
    }

    private String readGlobalNamePart() throws IOException {
        ByteArrayOutputStream line = new ByteArrayOutputStream();
        while (true) {
            int c = pickle.read();
            if (c == -1) {
                throw malformed("pickle ends inside a GLOBAL name");
            }
            if (c == '\n') {
                return line.toString(StandardCharsets.UTF_8);
            }
            if (line.size() >= MAX_GLOBAL_NAME_BYTES) {
                throw malformed("GLOBAL name longer than " + MAX_GLOBAL_NAME_BYTES + " bytes");
            }
            line.write(c);
        }
    }

    private IObjectConstructor resolveGlobal(String module, String name) {
        String qualified = module + "." + name;
        IObjectConstructor constructor = allowedGlobals.get(qualified);
        if (constructor == null) {
            throw new CheckpointException(fileName + ": refusing to unpickle global " + printable(qualified));
        }
        return constructor;
    }

    /** Untrusted names go into log lines and job errors: no control characters, bounded length. */
    static String printable(String s) {
        StringBuilder out = new StringBuilder();
        s.codePoints().limit(200).forEach(cp -> out.appendCodePoint(Character.isISOControl(cp) ? '?' : cp));
        return s.length() > 200 ? out + "…" : out.toString();
    }

    /** torch's persistent_id for a storage: ("storage", storage class, record key, location, numel). */
    @Override
    protected Object persistentLoad(Object pid) {
        if (!(pid instanceof Object[] t) || t.length != 5 || !"storage".equals(t[0])) {
            throw malformed("persistent id is not a ('storage', class, key, location, numel) tuple");
        }
        if (!(t[1] instanceof StorageClass storageClass)) {
            throw malformed("persistent id names no torch storage class");
        }
        if (!(t[2] instanceof String key) || !STORAGE_KEY.matcher(key).matches()) {
            throw malformed("persistent id has an invalid storage key");
        }
        if (!(t[3] instanceof String)) {
            throw malformed("persistent id of storage " + key + " has no location string");
        }
        long numel = nonNegativeLong(t[4], "element count of storage " + key);
        StorageRef ref = new StorageRef(storageClass.dtype(), key, numel);
        StorageRef earlier = storages.putIfAbsent(key, ref);
        if (earlier != null && !earlier.equals(ref)) {
            throw malformed("storage " + key + " is declared twice with different types or sizes");
        }
        return earlier != null ? earlier : ref;
    }

    /** {@code _rebuild_tensor_v2(storage, offset, size, stride, requires_grad, backward_hooks[, metadata])}. */
    private Object rebuildTensorV2(Object[] args) {
        if (args.length != 6 && args.length != 7) {
            throw malformed("_rebuild_tensor_v2 called with " + args.length + " arguments, expected 6 or 7");
        }
        if (!(args[0] instanceof StorageRef storage)) {
            throw malformed("_rebuild_tensor_v2 called without a storage");
        }
        long offset = nonNegativeLong(args[1], "storage offset");
        long[] size = longTuple(args[2], "size");
        long[] stride = longTuple(args[3], "stride");
        if (size.length != stride.length) {
            throw malformed("tensor has " + size.length + " sizes but " + stride.length + " strides");
        }
        return new TensorRef(storage, offset, size, stride);
    }

    /** {@code _rebuild_parameter(data, requires_grad, backward_hooks)}: a Parameter is its tensor for us. */
    private Object rebuildParameter(Object[] args) {
        if (args.length != 3 || !(args[0] instanceof TensorRef tensor)) {
            throw malformed("_rebuild_parameter called without a tensor");
        }
        return tensor;
    }

    private long[] longTuple(Object value, String what) {
        if (!(value instanceof Object[] items)) {
            throw malformed("tensor " + what + " is not a tuple");
        }
        if (items.length > MAX_TENSOR_DIMS) {
            throw malformed("tensor " + what + " has " + items.length + " dimensions, more than " + MAX_TENSOR_DIMS);
        }
        long[] out = new long[items.length];
        for (int i = 0; i < items.length; i++) {
            out[i] = nonNegativeLong(items[i], "tensor " + what);
        }
        return out;
    }

    private long nonNegativeLong(Object value, String what) {
        long v;
        if (value instanceof Integer i) {
            v = i;
        } else if (value instanceof Long l) {
            v = l;
        } else if (value instanceof BigInteger) {
            throw malformed(what + " does not fit in 64 bits");
        } else {
            throw malformed(what + " is not an integer");
        }
        if (v < 0) {
            throw malformed(what + " is negative (" + v + ")");
        }
        return v;
    }

    private CheckpointException malformed(String detail) {
        return new CheckpointException(fileName + ": malformed data.pkl near byte " + opcodeStart + ": " + detail);
    }

    private static boolean[] allowedOpcodes() {
        boolean[] allowed = new boolean[256];
        // What pickle protocols 1-5 write in binary form for dicts, lists, tuples, strings and numbers. Refused:
        // the protocol-0 text opcodes (INT, LONG, FLOAT, STRING, UNICODE, GET, PUT, PERSID: torch.save never
        // writes them, and LONG would parse an arbitrarily long decimal in quadratic time), INST and OBJ (they
        // resolve classes themselves), the EXT* extension registry, out-of-band buffers, sets (no state_dict has
        // one, and Pyrolite hashes their items by content) and POP_MARK (Pyrolite trims the whole stack on each).
        short[] ops = {
            Opcodes.MARK, Opcodes.STOP, Opcodes.POP, Opcodes.DUP,
            Opcodes.BININT, Opcodes.BININT1, Opcodes.BININT2, Opcodes.LONG1, Opcodes.LONG4, Opcodes.BINFLOAT,
            Opcodes.NONE, Opcodes.NEWTRUE, Opcodes.NEWFALSE,
            Opcodes.BINSTRING, Opcodes.SHORT_BINSTRING, Opcodes.BINUNICODE, Opcodes.SHORT_BINUNICODE,
            Opcodes.BINUNICODE8, Opcodes.BINBYTES, Opcodes.SHORT_BINBYTES, Opcodes.BINBYTES8, Opcodes.BYTEARRAY8,
            Opcodes.READONLY_BUFFER,
            Opcodes.EMPTY_TUPLE, Opcodes.TUPLE, Opcodes.TUPLE1, Opcodes.TUPLE2, Opcodes.TUPLE3,
            Opcodes.EMPTY_LIST, Opcodes.LIST, Opcodes.APPEND, Opcodes.APPENDS,
            Opcodes.EMPTY_DICT, Opcodes.DICT, Opcodes.SETITEM, Opcodes.SETITEMS,
            Opcodes.BINGET, Opcodes.LONG_BINGET, Opcodes.BINPUT, Opcodes.LONG_BINPUT, Opcodes.MEMOIZE,
            Opcodes.GLOBAL, Opcodes.STACK_GLOBAL, Opcodes.REDUCE, Opcodes.BUILD, Opcodes.NEWOBJ, Opcodes.NEWOBJ_EX,
            Opcodes.BINPERSID, Opcodes.PROTO, Opcodes.FRAME,
        };
        for (short op : ops) {
            allowed[op] = true;
        }
        return allowed;
    }

    /** The value a {@code torch.XStorage} global pushes; it is only ever used as a tag inside a persistent id. */
    record StorageClass(TorchDtype dtype) implements IObjectConstructor {
        @Override
        public Object construct(Object[] args) {
            throw new PickleException("torch storage classes are not called in a state_dict pickle");
        }
    }

    /** A storage record of the archive, {@code <root>/data/<key>}, not yet read. */
    record StorageRef(TorchDtype dtype, String key, long numel) {
    }

    /** A tensor view onto a storage, as {@code _rebuild_tensor_v2} describes it; offset and strides in elements. */
    record TensorRef(StorageRef storage, long offset, long[] size, long[] stride) {
    }

    /**
     * {@code collections.OrderedDict}. Pyrolite's default {@code ClassDict.__setstate__} would replace the map's
     * contents with the state, and torch pickles a state_dict's {@code BUILD {'_metadata': …}} after its
     * {@code SETITEMS}, so the default would wipe every tensor. The state is kept apart instead (BUILD is
     * handled in {@link #dispatch}).
     */
    static final class OrderedDictMap extends LinkedHashMap<Object, Object> {
        private static final long serialVersionUID = 1L;
        private transient Map<?, ?> state = Map.of();

        void setState(Map<?, ?> instanceDict) {
            state = instanceDict;
        }

        /** The instance attributes set by BUILD, e.g. {@code _metadata}; not part of the mapping. */
        Map<?, ?> state() {
            return state;
        }
    }
}
