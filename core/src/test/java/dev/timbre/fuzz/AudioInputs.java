package dev.timbre.fuzz;

import dev.timbre.testing.OggPages;
import java.io.ByteArrayOutputStream;
import java.util.Random;

/**
 * Structure-aware generators of WAV, FLAC, MP3 and Ogg Vorbis inputs: header fields drawn from usual and extreme
 * values (0, 1, 2^15, 2^31, 2^32 − 1 …), sizes that lie, checksums recomputed so that the codec sees the damage,
 * and mutated frames behind valid headers. Used by {@link AudioDecodeFuzzTest} (outcome and time) and by
 * {@code dev.timbre.audio.DecodeMemoryTest} (allocation against the bytes present).
 */
public final class AudioInputs {

    private AudioInputs() {
    }

    // ---- WAV

    public static byte[] wav(Random r) {
        int channels = (int) Fuzz.pick(r, 1, 1, 2, 4);
        long rate = Fuzz.pick(r, 8000, 16000, 22050, 44100, 48000, 96000);
        int bits = (int) Fuzz.pick(r, 8, 16, 16, 24, 32, 64);
        int tag = (int) Fuzz.pick(r, 1, 1, 3, 0xFFFE);
        int align = r.nextInt(5) > 0 ? (channels & 0xFFFF) * ((bits & 0xFFFF) / 8) : (int) Fuzz.interesting(r);
        int payloadLength = r.nextInt(6) == 0 ? 0 : r.nextInt(16384);
        byte[] payload = new byte[payloadLength];
        if (r.nextBoolean()) {
            r.nextBytes(payload);
        } else { // a quiet sine, so that some inputs decode to real audio
            for (int i = 0; i + 1 < payload.length; i += 2) {
                int v = (int) (8000 * Math.sin(i * 0.01));
                payload[i] = (byte) v;
                payload[i + 1] = (byte) (v >> 8);
            }
        }
        ByteArrayOutputStream fmt = new ByteArrayOutputStream();
        write16(fmt, tag);
        write16(fmt, channels);
        write32(fmt, rate);
        write32(fmt, rate * align);
        write16(fmt, align);
        write16(fmt, bits);
        if (tag == 0xFFFE || r.nextInt(4) == 0) { // extensible tail: cbSize, valid bits, mask, GUID
            write16(fmt, 22);
            write16(fmt, bits);
            write32(fmt, 4);
            int subformat = (int) Fuzz.pick(r, 1, 3, 2, 0);
            write16(fmt, subformat);
            byte[] guid = {0x00, 0x00, 0x00, 0x00, 0x10, 0x00, (byte) 0x80, 0x00, 0x00, (byte) 0xAA, 0x00, 0x38,
                (byte) 0x9B, 0x71};
            if (r.nextInt(4) == 0) {
                guid[r.nextInt(guid.length)] ^= 1;
            }
            fmt.writeBytes(guid);
        }
        long fmtSize = r.nextInt(6) > 0 ? fmt.size() : Fuzz.interesting(r);
        long dataSize = r.nextInt(3) > 0 ? payloadLength : Fuzz.interesting(r);

        ByteArrayOutputStream body = new ByteArrayOutputStream();
        body.writeBytes(new byte[] {'W', 'A', 'V', 'E'});
        if (r.nextInt(4) == 0) {
            chunk(body, "LIST", r.nextInt(3) > 0 ? 5 : Fuzz.interesting(r), Fuzz.randomBytes(r, 40));
        }
        boolean dataFirst = r.nextInt(20) == 0;
        if (!dataFirst) {
            chunk(body, "fmt ", fmtSize, fmt.toByteArray());
        }
        if (r.nextInt(15) == 0) {
            chunk(body, "fmt ", fmtSize, fmt.toByteArray());
        }
        chunk(body, "data", dataSize, payload);
        if (dataFirst) {
            chunk(body, "fmt ", fmtSize, fmt.toByteArray());
        }
        ByteArrayOutputStream file = new ByteArrayOutputStream();
        file.writeBytes(new byte[] {'R', 'I', 'F', 'F'});
        write32(file, r.nextInt(3) > 0 ? body.size() : Fuzz.interesting(r));
        file.writeBytes(body.toByteArray());
        byte[] bytes = file.toByteArray();
        return r.nextInt(8) == 0 ? java.util.Arrays.copyOf(bytes, r.nextInt(bytes.length + 1)) : bytes;
    }

    private static void chunk(ByteArrayOutputStream out, String id, long declared, byte[] body) {
        out.writeBytes(id.getBytes(java.nio.charset.StandardCharsets.ISO_8859_1));
        write32(out, declared);
        out.writeBytes(body);
        if ((body.length & 1) == 1) {
            out.write(0);
        }
    }

    private static void write16(ByteArrayOutputStream out, long v) {
        out.write((int) v);
        out.write((int) (v >> 8));
    }

    private static void write32(ByteArrayOutputStream out, long v) {
        write16(out, v);
        write16(out, v >> 16);
    }

    // ---- FLAC: "fLaC", block header at 4, STREAMINFO body at 8..41, frames after the metadata

    public static byte[] flac(Random r, byte[] original) {
        byte[] f = original.clone();
        int si = 8;
        if (r.nextInt(3) == 0) { // min/max block size
            put16be(f, si, (int) Fuzz.pick(r, 4096, 16, 1, 65535));
            put16be(f, si + 2, (int) Fuzz.pick(r, 4096, 16, 1, 65535));
        }
        if (r.nextInt(3) == 0) { // min/max frame size (24 bits each)
            long v = Fuzz.pick(r, 0, 1, 0xFFFFFF);
            f[si + 4] = (byte) (v >> 16);
            f[si + 5] = (byte) (v >> 8);
            f[si + 6] = (byte) v;
        }
        if (r.nextInt(3) == 0) { // 20-bit rate, 3-bit channels-1, 5-bit bps-1, 36-bit total samples
            long rate = Fuzz.pick(r, 16000, 1, 0, 655350, 0xFFFFF) & 0xFFFFF;
            int channels = r.nextInt(8);
            int bps = r.nextInt(32);
            long total = Fuzz.pick(r, 0, 1, 16000, 0xFFFFFFFFFL, 12L * 3600 * 16000) & 0xFFFFFFFFFL;
            f[si + 10] = (byte) (rate >> 12);
            f[si + 11] = (byte) (rate >> 4);
            f[si + 12] = (byte) (((rate & 0xF) << 4) | (channels << 1) | (bps >> 4));
            f[si + 13] = (byte) (((bps & 0xF) << 4) | (total >> 32));
            f[si + 14] = (byte) (total >> 24);
            f[si + 15] = (byte) (total >> 16);
            f[si + 16] = (byte) (total >> 8);
            f[si + 17] = (byte) total;
        }
        if (r.nextBoolean()) { // damage behind the header: frame headers, subframes, residuals
            byte[] head = java.util.Arrays.copyOf(f, 42);
            byte[] frames = java.util.Arrays.copyOfRange(f, 42, f.length);
            f = concat(head, Fuzz.mutate(frames, r, 64));
        }
        if (r.nextInt(6) == 0) { // an extra metadata block with a lying length
            f[4] &= 0x7F; // STREAMINFO no longer last
            byte[] block = {(byte) (0x80 | r.nextInt(128)), (byte) r.nextInt(256), (byte) r.nextInt(256),
                (byte) r.nextInt(256)};
            f = concat(java.util.Arrays.copyOf(f, 42), block, Fuzz.randomBytes(r, 64),
                    java.util.Arrays.copyOfRange(f, 42, f.length));
        }
        return f;
    }

    private static void put16be(byte[] b, int at, int v) {
        b[at] = (byte) (v >> 8);
        b[at + 1] = (byte) v;
    }

    // ---- MP3

    public static byte[] mp3(Random r, byte[] original) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        int tags = r.nextInt(3);
        for (int t = 0; t < tags; t++) { // ID3v2 tags with true or lying sizes
            byte[] tagBody = Fuzz.randomBytes(r, 200);
            long size = r.nextInt(3) > 0 ? tagBody.length : Fuzz.interesting(r) & 0x0FFFFFFF;
            out.writeBytes(new byte[] {'I', 'D', '3', 4, 0, (byte) (r.nextInt(8) == 0 ? 0x10 : 0),
                (byte) ((size >> 21) & 0x7F), (byte) ((size >> 14) & 0x7F), (byte) ((size >> 7) & 0x7F),
                (byte) (size & 0x7F)});
            out.writeBytes(tagBody);
        }
        if (r.nextBoolean()) {
            out.writeBytes(Fuzz.mutate(original, r, 256));
        } else { // generated frames: sync, random version/layer/bitrate/rate/padding, random or real bodies
            int frames = 1 + r.nextInt(60);
            for (int i = 0; i < frames; i++) {
                int b1 = 0xE0 | (r.nextInt(4) << 3) | (r.nextInt(4) << 1) | r.nextInt(2);
                int b2 = (r.nextInt(16) << 4) | (r.nextInt(4) << 2) | (r.nextInt(2) << 1);
                out.writeBytes(new byte[] {(byte) 0xFF, (byte) b1, (byte) b2, (byte) r.nextInt(256)});
                if (r.nextBoolean()) {
                    out.writeBytes(Fuzz.randomBytes(r, 1500));
                } else {
                    int from = r.nextInt(original.length);
                    out.writeBytes(java.util.Arrays.copyOfRange(original, from,
                            Math.min(original.length, from + r.nextInt(1500))));
                }
            }
        }
        return out.toByteArray();
    }

    // ---- Ogg Vorbis: identification header on page 0, comment + setup headers on page 1

    public static byte[] ogg(Random r, byte[] original) {
        byte[] o = original.clone();
        int packet = 27 + (o[26] & 0xFF);
        switch (r.nextInt(4)) {
            case 0 -> o[packet + 11] = (byte) Fuzz.pick(r, 1, 2, 0, 255); // channels
            case 1 -> { // rate
                long rate = Fuzz.pick(r, 44100, 8000, 1, 0, 768001, 0xFFFFFFFFL);
                for (int i = 0; i < 4; i++) {
                    o[packet + 12 + i] = (byte) (rate >> (8 * i));
                }
            }
            case 2 -> o[packet + 28] = (byte) r.nextInt(256); // block sizes
            default -> o[packet + 7 + r.nextInt(23)] = (byte) r.nextInt(256); // version, bitrates, framing
        }
        OggPages.fixCrc(o, 0);
        if (r.nextBoolean()) { // the setup header's codebooks, floors, residues, mappings and modes
            int second = OggPages.length(o, 0);
            int length = OggPages.length(o, second);
            int hot = second + 27 + (o[second + 26] & 0xFF);
            int count = 1 + r.nextInt(6);
            for (int i = 0; i < count; i++) {
                int at = hot + r.nextInt(second + length - hot);
                o[at] = (byte) (r.nextBoolean() ? r.nextInt(256) : o[at] ^ (1 << r.nextInt(8)));
            }
            OggPages.fixCrc(o, second);
        }
        if (r.nextInt(4) == 0) { // audio pages: damage, then a valid checksum on every page
            int from = OggPages.length(o, 0) + OggPages.length(o, OggPages.length(o, 0));
            for (int i = 0; i < 1 + r.nextInt(16); i++) {
                int at = from + r.nextInt(o.length - from);
                o[at] = (byte) r.nextInt(256);
            }
            for (int at = 0; at + 27 <= o.length && at + OggPages.length(o, at) <= o.length;
                    at += OggPages.length(o, at)) {
                if (o[at] != 'O' || o[at + 1] != 'g') {
                    break;
                }
                OggPages.fixCrc(o, at);
            }
        }
        return o;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }
}
