package dev.timbre.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.fuzz.AudioInputs;
import dev.timbre.hostile.HostileCorpus;
import java.io.ByteArrayOutputStream;
import java.lang.management.ManagementFactory;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/**
 * The memory property of the decoders: decoding {@code n} bytes allocates at most {@code perByte × n + fixed}
 * bytes on the decoding thread ({@code ThreadMXBean.getThreadAllocatedBytes}, everything allocated, so an upper
 * bound of the peak), with the constants of {@link #BOUNDS} per format, whatever the headers declare. Inputs: the
 * hostile corpus, structure-aware generated files ({@link AudioInputs}), and valid files whose length fields are
 * set to the values nearest the limits (and then cut to 200 bytes or in half), where a decoder that sized an
 * array from a header would allocate up to {@code 4 × 600 s × 768 kHz} = 1.8 GB.
 *
 * <p>The constants are those of the codecs, not of this corpus: decoded audio is 4 bytes per frame, and the mono
 * buffer's doubling plus its final copy make that at most 20 bytes per frame; a format's most frames per byte is
 * what bounds the rest. WAV: 8-bit mono, 1 frame per byte. MP3: a 32 kbit/s MPEG-1 frame at 48 kHz, 12 frames per
 * byte. FLAC: a 13-byte frame whose constant subframe stands for 65535 samples of silence, 5041 frames per byte
 * ({@link #flacSilenceIsTheWorstCaseAndStillWithinItsBound} builds it). Ogg Vorbis: a packet of one byte (plus
 * one lacing byte) that decodes to 4096 frames, 2048 frames per byte. docs/reliability.md states them and the
 * figures this test prints.
 */
class DecodeMemoryTest {
    /** Allocation bound of one decode: {@code perByte × bytes present + fixed}. */
    record Bound(long perByte, long fixed) {
        long of(int bytes) {
            return perByte * bytes + fixed;
        }
    }

    static final Map<AudioFormat, Bound> BOUNDS = new EnumMap<>(Map.of(
            AudioFormat.WAV, new Bound(8, 64 << 10),
            AudioFormat.MP3, new Bound(256, 2 << 20),
            AudioFormat.FLAC, new Bound(110_000, 2 << 20),
            AudioFormat.OGG_VORBIS, new Bound(44_000, 16 << 20)));
    /** Input that no decoder accepts (format detection fails): the bytes are only looked at. */
    static final Bound UNDETECTED = new Bound(0, 64 << 10);

    private static final AudioLoader LOADER = new AudioLoader(AudioLimits.DEFAULT);
    private static final int GENERATED_PER_FORMAT = Integer.getInteger("timbre.fuzz.tries", 100);
    private static final Map<String, double[]> WORST = new java.util.TreeMap<>();

    @Test
    void hostileCorpus() {
        for (HostileCorpus.Case c : HostileCorpus.audio()) {
            check("hostile " + c.file(), c.bytes());
        }
    }

    @Test
    void generatedInputs() {
        byte[] flac = AudioFormatsTest.read("flac_s24_mono_16000.flac");
        byte[] mp3 = AudioFormatsTest.read("mp3_mono_22050.mp3");
        byte[] ogg = AudioFormatsTest.read("ogg_stereo_44100.ogg");
        Random seeds = new Random(20261129L);
        for (int i = 0; i < GENERATED_PER_FORMAT; i++) {
            long seed = seeds.nextLong();
            check("generated WAV seed " + seed, AudioInputs.wav(new Random(seed)));
            check("generated FLAC seed " + seed, AudioInputs.flac(new Random(seed), flac));
            check("generated MP3 seed " + seed, AudioInputs.mp3(new Random(seed), mp3));
            check("generated Ogg seed " + seed, AudioInputs.ogg(new Random(seed), ogg));
        }
    }

    @Test
    void wavLengthFieldsAtTheLimits() {
        for (String file : List.of("source_s16_mono_22050.wav", "wav_u8_mono_8000.wav", "wav_f64_stereo_44100.wav")) {
            byte[] wav = AudioFormatsTest.read(file);
            int data = OggPages.indexOf(wav, "data".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 12);
            for (long size : lengths(AudioLimits.DEFAULT.maxFrames(768_000) * 8)) {
                byte[] lying = le32(wav, data + 4, size);
                checkCuts(file + " data size " + size, lying);
                checkCuts(file + " data and RIFF size " + size, le32(lying, 4, size));
                checkCuts(file + " data size " + size + " at 768 kHz", le32(lying, 24, 768_000));
                checkCuts(file + " data size " + size + " at 1 Hz", le32(lying, 24, 1));
            }
            checkCuts(file + " fmt size 2^32 - 1", le32(wav, 16, 0xFFFFFFFFL));
        }
    }

    @Test
    void flacLengthFieldsAtTheLimits() {
        for (String file : List.of("flac_s24_mono_16000.flac", "flac_s16_stereo_44100.flac")) {
            byte[] flac = AudioFormatsTest.read(file);
            for (int rate : new int[] {1, 16_000, 768_000, 0xFFFFF}) {
                for (long total : lengths(AudioLimits.DEFAULT.maxFrames(768_000))) {
                    byte[] lying = flacStreamInfo(flac, rate, total & 0xFFFFFFFFFL);
                    checkCuts(file + " " + rate + " Hz total " + total, lying);
                    checkCuts(file + " " + rate + " Hz total " + total + " blocks 65535",
                            flacBlockSizes(lying, 65535, 65535));
                }
                checkCuts(file + " " + rate + " Hz total 2^36 - 1", flacStreamInfo(flac, rate, 0xFFFFFFFFFL));
            }
            byte[] block = flac.clone(); // the block after STREAMINFO claims 16 MiB
            block[43] = block[44] = block[45] = (byte) 0xFF;
            checkCuts(file + " metadata block 2^24 - 1", block);
        }
        for (long total : lengths(AudioLimits.DEFAULT.maxFrames(768_000))) {
            check("200-byte FLAC at 768 kHz total " + total, TruncatedAudioTest.tinyFlacClaiming(total & 0xFFFFFFFFFL));
        }
    }

    @Test
    void mp3LengthFieldsAtTheLimits() {
        for (String file : List.of("mp3_mono_22050.mp3", "mp3_stereo_44100.mp3")) {
            byte[] mp3 = AudioFormatsTest.read(file);
            int tag = OggPages.indexOf(mp3, "Info".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0);
            int lame = OggPages.indexOf(mp3, "LAME".getBytes(java.nio.charset.StandardCharsets.US_ASCII), tag);
            assertTrue(tag > 0 && lame > tag, file + " has an Info tag and a LAME tag");
            for (long frames : lengths(AudioLimits.DEFAULT.maxFrames(48_000) / 576)) {
                byte[] lying = be32(mp3, tag + 8, frames);
                checkCuts(file + " Info frames " + frames, lying);
                byte[] padded = lying.clone(); // encoder delay and padding 4095 each
                padded[lame + 21] = padded[lame + 22] = padded[lame + 23] = (byte) 0xFF;
                checkCuts(file + " Info frames " + frames + " padding 4095", padded);
            }
            byte[] id3 = concat(new byte[] {'I', 'D', '3', 4, 0, 0, 0x7F, 0x7F, 0x7F, 0x7F}, mp3);
            checkCuts(file + " ID3 size 2^28 - 1", id3);
        }
    }

    @Test
    void oggLengthFieldsAtTheLimits() {
        byte[] ogg = AudioFormatsTest.read("ogg_stereo_44100.ogg");
        int packet = 27 + (ogg[26] & 0xFF);
        for (long granule : new long[] {-1L, Long.MAX_VALUE, AudioLimits.DEFAULT.maxFrames(768_000)}) {
            byte[] lying = ogg.clone(); // every page's granule position
            for (int at = 0; at + 27 <= lying.length && AudioFormat.startsWith(lying, at, "OggS");
                    at += dev.timbre.testing.OggPages.length(lying, at)) {
                for (int i = 0; i < 8; i++) {
                    lying[at + 6 + i] = (byte) (granule >>> (8 * i));
                }
            }
            OggPages.fixChecksums(lying);
            checkCuts("ogg granule " + granule, lying);
        }
        for (long rate : new long[] {1, 768_000, 0xFFFFFFFFL}) {
            for (int channels : new int[] {1, 2, 64, 255}) {
                for (int blocks : new int[] {0xB8, 0xDD, 0xD6}) { // 2^8/2^11, 2^13/2^13, 2^6/2^13
                    byte[] lying = ogg.clone();
                    lying[packet + 11] = (byte) channels;
                    for (int i = 0; i < 4; i++) {
                        lying[packet + 12 + i] = (byte) (rate >>> (8 * i));
                    }
                    lying[packet + 28] = (byte) blocks;
                    OggPages.fixChecksums(lying);
                    checkCuts("ogg " + rate + " Hz " + channels + " channels blocks " + Integer.toHexString(blocks),
                            lying);
                }
            }
        }
    }

    /**
     * The most frames per byte FLAC can carry: frames of 65535 samples of silence, 13 bytes each. This is real
     * audio (the bytes really hold it), so it is the case the FLAC constant has to cover.
     */
    @Test
    void flacSilenceIsTheWorstCaseAndStillWithinItsBound() {
        byte[] silence = flacOfSilence(768_000, 64);
        DecodedAudio audio = LOADER.decode(silence);
        assertEquals(64 * 65535, audio.mono().length);
        assertTrue(64 * 65535 / (double) silence.length > 4500, "frames per byte " + 64 * 65535 / silence.length);
        check("FLAC of silence, 64 frames of 65535 samples", silence);
    }

    private static void checkCuts(String what, byte[] input) {
        check(what, input);
        check(what + ", cut to 200 bytes", Arrays.copyOf(input, Math.min(200, input.length)));
        check(what + ", cut in half", Arrays.copyOf(input, input.length / 2));
    }

    private static void check(String what, byte[] input) {
        Bound bound = bound(input);
        long before = allocatedBytes();
        String outcome;
        try {
            DecodedAudio audio = LOADER.decode(input);
            outcome = audio.mono().length + " frames";
        } catch (InvalidAudioException e) {
            outcome = e.getMessage();
        }
        long allocated = allocatedBytes() - before;
        String format = formatName(input);
        // per format: the largest allocation, and the largest allocation per byte among inputs over 1 KiB
        WORST.merge(format + " largest", new double[] {allocated, input.length}, (a, b) -> a[0] >= b[0] ? a : b);
        if (what.startsWith("FLAC of silence")) {
            WORST.put("FLAC of silence", new double[] {allocated, input.length});
        }
        WORST.merge(format + " largest", new double[] {allocated, input.length},
                (a, b) -> a[0] >= b[0] ? a : b);
        if (input.length >= 1024) {
            WORST.merge(format + " per byte", new double[] {allocated, input.length},
                    (a, b) -> a[0] / a[1] >= b[0] / b[1] ? a : b);
        }
        assertTrue(allocated <= bound.of(input.length), what + ": allocated " + allocated + " bytes decoding "
                + input.length + " bytes, bound " + bound.perByte() + " x " + input.length + " + " + bound.fixed()
                + " = " + bound.of(input.length) + " (" + outcome + ")");
    }

    private static Bound bound(byte[] input) {
        try {
            return BOUNDS.get(AudioFormat.detect(input).format());
        } catch (InvalidAudioException e) {
            return UNDETECTED;
        }
    }

    private static String formatName(byte[] input) {
        try {
            return AudioFormat.detect(input).format().name();
        } catch (InvalidAudioException e) {
            return "UNDETECTED";
        }
    }

    @AfterAll
    static void printWorst() {
        StringBuilder out = new StringBuilder("decode allocation per format (bytes allocated for a file of n bytes):\n");
        WORST.forEach((what, w) -> out.append(String.format(Locale.ROOT, "  %-22s %,14.0f B for %,9.0f B (%.1f per byte)%n",
                what, w[0], w[1], w[0] / Math.max(1, w[1]))));
        System.out.print(out);
    }

    // ------------------------------------------------------------------------------------------------- helpers

    /** Values of a length field from the usual to the extreme, with {@code atLimit} (the largest legal one). */
    private static long[] lengths(long atLimit) {
        return new long[] {0, 1, 2, 4096, atLimit - 1, atLimit, atLimit + 1, 0x7FFFFFFFL, 0x80000000L,
            0xFFFFFFFEL, 0xFFFFFFFFL};
    }

    private static long allocatedBytes() {
        return ((com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean())
                .getCurrentThreadAllocatedBytes();
    }

    private static byte[] le32(byte[] data, int at, long value) {
        byte[] copy = data.clone();
        for (int i = 0; i < 4; i++) {
            copy[at + i] = (byte) (value >>> (8 * i));
        }
        return copy;
    }

    private static byte[] be32(byte[] data, int at, long value) {
        byte[] copy = data.clone();
        for (int i = 0; i < 4; i++) {
            copy[at + i] = (byte) (value >>> (24 - 8 * i));
        }
        return copy;
    }

    private static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    /** STREAMINFO (bytes 8..41) with another sample rate and total samples. */
    private static byte[] flacStreamInfo(byte[] flac, int rate, long total) {
        byte[] f = TruncatedAudioTest.withTotalSamples(flac, total);
        f[18] = (byte) (rate >> 12);
        f[19] = (byte) (rate >> 4);
        f[20] = (byte) (((rate & 0xF) << 4) | (f[20] & 0x0F));
        return f;
    }

    private static byte[] flacBlockSizes(byte[] flac, int min, int max) {
        byte[] f = flac.clone();
        f[8] = (byte) (min >> 8);
        f[9] = (byte) min;
        f[10] = (byte) (max >> 8);
        f[11] = (byte) max;
        return f;
    }

    /** A mono 16-bit FLAC at {@code rate} of {@code frames} frames of 65535 samples, each a constant subframe. */
    static byte[] flacOfSilence(int rate, int frames) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {'f', 'L', 'a', 'C', (byte) 0x80, 0, 0, 34});
        long total = 65535L * frames;
        byte[] info = new byte[34];
        info[0] = (byte) 0xFF; // min and max block size 65535
        info[1] = (byte) 0xFF;
        info[2] = (byte) 0xFF;
        info[3] = (byte) 0xFF;
        info[10] = (byte) (rate >> 12);
        info[11] = (byte) (rate >> 4);
        info[12] = (byte) (((rate & 0xF) << 4) | (0 << 1) | 0); // 1 channel, bps-1 = 15: high bit 0
        info[13] = (byte) ((15 << 4) | (int) (total >>> 32));
        info[14] = (byte) (total >>> 24);
        info[15] = (byte) (total >>> 16);
        info[16] = (byte) (total >>> 8);
        info[17] = (byte) total;
        out.writeBytes(info);
        for (int n = 0; n < frames; n++) {
            ByteArrayOutputStream frame = new ByteArrayOutputStream();
            // sync, fixed block size; block size from the 16-bit field at the end, rate from STREAMINFO;
            // mono, 16 bits per sample; the frame number UTF-8 coded; block size - 1
            frame.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xF8, 0x70, 0x08});
            frame.writeBytes(utf8(n));
            frame.writeBytes(new byte[] {(byte) 0xFF, (byte) 0xFE});
            frame.write(crc8(frame.toByteArray()));
            frame.writeBytes(new byte[] {0x00, 0x00, 0x00}); // CONSTANT subframe, value 0
            int crc = crc16(frame.toByteArray());
            frame.write(crc >> 8);
            frame.write(crc);
            out.writeBytes(frame.toByteArray());
        }
        return out.toByteArray();
    }

    private static byte[] utf8(int n) {
        if (n < 0x80) {
            return new byte[] {(byte) n};
        }
        return new byte[] {(byte) (0xC0 | (n >> 6)), (byte) (0x80 | (n & 0x3F))};
    }

    private static int crc8(byte[] data) {
        int crc = 0;
        for (byte b : data) {
            crc ^= b & 0xFF;
            for (int i = 0; i < 8; i++) {
                crc = (crc & 0x80) != 0 ? ((crc << 1) ^ 0x07) & 0xFF : (crc << 1) & 0xFF;
            }
        }
        return crc;
    }

    private static int crc16(byte[] data) {
        int crc = 0;
        for (byte b : data) {
            crc ^= (b & 0xFF) << 8;
            for (int i = 0; i < 8; i++) {
                crc = (crc & 0x8000) != 0 ? ((crc << 1) ^ 0x8005) & 0xFFFF : (crc << 1) & 0xFFFF;
            }
        }
        return crc;
    }
}
