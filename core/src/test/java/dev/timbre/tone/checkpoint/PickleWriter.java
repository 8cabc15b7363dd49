package dev.timbre.tone.checkpoint;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;

/**
 * Writes pickle opcodes by hand, so tests can build exactly the data.pkl torch.save writes (protocol 2) and every
 * hostile variant of it without Python. Opcode values are Python's (Lib/pickle.py).
 */
final class PickleWriter {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();

    PickleWriter proto(int version) {
        return raw(0x80, version);
    }

    /** Any single-byte opcode, e.g. {@code '('} MARK, {@code 't'} TUPLE, {@code 'R'} REDUCE, {@code '.'} STOP. */
    PickleWriter op(char opcode) {
        return raw(opcode);
    }

    PickleWriter raw(int... bytes) {
        for (int b : bytes) {
            out.write(b);
        }
        return this;
    }

    PickleWriter rawBytes(byte[] bytes) {
        out.writeBytes(bytes);
        return this;
    }

    /** GLOBAL: {@code c module\nname\n}. */
    PickleWriter global(String module, String name) {
        out.write('c');
        out.writeBytes((module + "\n" + name + "\n").getBytes(StandardCharsets.UTF_8));
        return this;
    }

    /** BINUNICODE: a str with a 4-byte little-endian length. */
    PickleWriter str(String s) {
        byte[] utf8 = s.getBytes(StandardCharsets.UTF_8);
        out.write('X');
        int32(utf8.length);
        out.writeBytes(utf8);
        return this;
    }

    /** BININT for 32-bit values, LONG1 (little-endian two's complement) for the rest, as CPython writes them. */
    PickleWriter integer(long v) {
        if (v == (int) v) {
            out.write('J');
            int32((int) v);
            return this;
        }
        byte[] le = new byte[9];
        int n = 0;
        long x = v;
        do {
            le[n++] = (byte) x;
            x >>= 8;
        } while (!(x == 0 && (le[n - 1] & 0x80) == 0) && !(x == -1 && (le[n - 1] & 0x80) != 0));
        out.write(0x8a);
        out.write(n);
        out.write(le, 0, n);
        return this;
    }

    PickleWriter tuple(long... values) {
        op('(');
        for (long v : values) {
            integer(v);
        }
        return op('t');
    }

    PickleWriter int32(int v) {
        for (int i = 0; i < 4; i++) {
            out.write(v >>> (8 * i));
        }
        return this;
    }

    int size() {
        return out.size();
    }

    byte[] bytes() {
        return out.toByteArray();
    }
}
