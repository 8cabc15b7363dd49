package dev.timbre.audio;

import com.jcraft.jogg.Packet;
import com.jcraft.jogg.Page;
import com.jcraft.jogg.StreamState;
import com.jcraft.jogg.SyncState;
import com.jcraft.jorbis.Block;
import com.jcraft.jorbis.Comment;
import com.jcraft.jorbis.DspState;
import com.jcraft.jorbis.Info;

/**
 * Ogg Vorbis through JOrbis, decoding to float as libsndfile does (no 16-bit step), channels averaged in
 * float32. Only the first logical stream is decoded.
 *
 * <p>JOrbis trusts its headers: a comment header's lengths size arrays before they are checked, and a codebook
 * with dimension 0 sends its {@code maptype1_quantvals} into an endless loop. So the headers are checked here
 * first: the identification header's rate, channels and block sizes; the comment header is replaced by an
 * empty one (comments are not needed); every codebook of the setup header is walked with libvorbis's own
 * sanity rules ({@code ilog(dim) + ilog(entries) <= 24}, lengths and quantized values present in the packet)
 * plus a bound on the total entries. Stateless and thread-safe (JOrbis state per call).
 */
final class OggVorbisDecoder {
    /** Far above real encoders' codebooks (a few thousand entries in all), far below what exhausts memory. */
    private static final long MAX_CODEBOOK_ENTRIES = 1 << 20;

    DecodedAudio decode(byte[] data, DecodeContext context) {
        try {
            return decodeStream(data, context);
        } catch (InvalidAudioException e) {
            throw e;
        } catch (RuntimeException e) {
            throw new InvalidAudioException("invalid Ogg Vorbis: undecodable packet ("
                    + FlacDecoder.describe(e) + ")", e);
        }
    }

    private DecodedAudio decodeStream(byte[] data, DecodeContext context) {
        SyncState sync = new SyncState();
        sync.init();
        int at = sync.buffer(data.length);
        System.arraycopy(data, 0, sync.data, at, data.length);
        sync.wrote(data.length);

        Page page = new Page();
        Packet packet = new Packet();
        if (sync.pageout(page) != 1) {
            throw invalid("no valid Ogg page at the start");
        }
        int serial = page.serialno();
        StreamState stream = new StreamState();
        stream.init(serial);
        if (stream.pagein(page) < 0 || stream.packetout(packet) != 1) {
            throw invalid("no identification header");
        }
        checkIdentificationHeader(packet);
        Info info = new Info();
        Comment comment = new Comment();
        info.init();
        comment.init();
        if (info.synthesis_headerin(comment, packet) < 0) {
            throw invalid("bad identification header");
        }

        int headers = 1;
        while (headers < 3) {
            context.checkDeadline();
            int result = stream.packetout(packet);
            if (result == 0) {
                if (!nextPageOfStream(sync, page, serial, stream)) {
                    throw invalid("the stream ends inside its headers");
                }
                continue;
            }
            if (result < 0) {
                throw invalid("damaged header packet");
            }
            if (headers == 1) {
                checkPacketType(packet, 3, "comment");
                packet = emptyCommentPacket();
            } else {
                checkPacketType(packet, 5, "setup");
                checkSetupCodebooks(packet);
            }
            if (info.synthesis_headerin(comment, packet) < 0) {
                throw invalid("bad " + (headers == 1 ? "comment" : "setup") + " header");
            }
            packet = new Packet();
            headers++;
        }

        int channels = info.channels;
        int sampleRate = info.rate;
        DspState dsp = new DspState();
        if (dsp.synthesis_init(info) != 0) {
            throw invalid("decoder setup failed");
        }
        Block block = new Block(dsp);
        MonoBuffer mono = new MonoBuffer(context, sampleRate, -1);
        MonoBuffer kept = context.channelBuffer(sampleRate, -1, channels);
        float[][][] pcm = new float[1][][];
        int[] index = new int[channels];
        boolean endOfStream = false;
        while (true) {
            int result = stream.packetout(packet);
            if (result == 0) {
                if (endOfStream || !nextPageOfStream(sync, page, serial, stream)) {
                    break;
                }
                endOfStream = page.eos() != 0;
                context.checkDeadline();
                continue;
            }
            if (result < 0) {
                continue; // a hole in the data: libvorbisfile carries on with the next packet
            }
            if (block.synthesis(packet) == 0) {
                dsp.synthesis_blockin(block);
            }
            int samples;
            while ((samples = dsp.synthesis_pcmout(pcm, index)) > 0) {
                float[][] channelPcm = pcm[0];
                for (int i = 0; i < samples; i++) {
                    float sum = 0f;
                    for (int c = 0; c < channels; c++) {
                        float value = channelPcm[c][index[c] + i];
                        if (kept != null) {
                            kept.add(value);
                        }
                        sum += value;
                    }
                    mono.add(channels == 1 ? sum : sum / channels);
                }
                dsp.synthesis_read(samples);
            }
        }
        // FFmpeg's vorbis decoder outputs planar float
        return new DecodedAudio(mono.toArray(), sampleRate, channels, kept == null ? null : kept.toArray(),
                OriginalAudio.SampleFormat.FLT);
    }

    /** Feeds the next page of {@code serial} into {@code stream}; false when the data is exhausted. */
    private static boolean nextPageOfStream(SyncState sync, Page page, int serial, StreamState stream) {
        while (true) {
            int result = sync.pageout(page);
            if (result == 0) {
                return false;
            }
            if (result > 0 && page.serialno() == serial) {
                stream.pagein(page);
                return true;
            }
            // -1: bytes skipped to resync; or a page of another logical stream: keep looking
        }
    }

    private static void checkIdentificationHeader(Packet packet) {
        byte[] b = packet.packet_base;
        int p = packet.packet;
        if (packet.bytes < 30) {
            throw invalid("identification header of " + packet.bytes + " bytes, need 30");
        }
        int channels = b[p + 11] & 0xFF;
        long rate = (b[p + 12] & 0xFFL) | ((b[p + 13] & 0xFFL) << 8) | ((b[p + 14] & 0xFFL) << 16)
                | ((b[p + 15] & 0xFFL) << 24);
        DecodeContext.checkRateAndChannels("invalid Ogg Vorbis", rate, channels);
        int small = b[p + 28] & 0x0F;
        int large = (b[p + 28] >> 4) & 0x0F;
        if (small < 6 || large > 13 || small > large) {
            throw invalid("block sizes 2^" + small + " and 2^" + large + " (allowed 64..8192, short <= long)");
        }
    }

    private static void checkPacketType(Packet packet, int type, String name) {
        if (packet.bytes < 7 || packet.packet_base[packet.packet] != type
                || !AudioFormat.startsWith(packet.packet_base, packet.packet + 1, "vorbis")) {
            throw invalid("expected the " + name + " header");
        }
    }

    private static Packet emptyCommentPacket() {
        byte[] body = {3, 'v', 'o', 'r', 'b', 'i', 's', 0, 0, 0, 0, 0, 0, 0, 0, 1};
        Packet packet = new Packet();
        packet.packet_base = body;
        packet.packet = 0;
        packet.bytes = body.length;
        return packet;
    }

    /** Walks the codebooks of a setup header with libvorbis's checks; see the class comment. */
    private static void checkSetupCodebooks(Packet packet) {
        BitReader bits = new BitReader(packet.packet_base, packet.packet + 7, packet.bytes - 7);
        int books = bits.read(8) + 1;
        long totalEntries = 0;
        for (int book = 0; book < books; book++) {
            if (bits.read(24) != 0x564342) {
                throw invalid("codebook " + book + " has no sync pattern");
            }
            int dim = bits.read(16);
            int entries = bits.read(24);
            if (dim < 1 || entries < 1 || ilog(dim) + ilog(entries) > 24) {
                throw invalid("codebook " + book + " has " + entries + " entries of dimension " + dim);
            }
            totalEntries += (long) entries * (dim + 1);
            if (totalEntries > MAX_CODEBOOK_ENTRIES) {
                throw invalid("codebooks declare more than " + MAX_CODEBOOK_ENTRIES + " entries");
            }
            if (bits.read(1) == 0) { // unordered lengths
                boolean sparse = bits.read(1) == 1;
                if (!sparse && !bits.has((long) entries * 5)) {
                    throw invalid("codebook " + book + " lengths run past the packet");
                }
                for (int i = 0; i < entries; i++) {
                    if (!sparse || bits.read(1) == 1) {
                        bits.read(5);
                    }
                }
            } else { // ordered lengths: runs of increasing length
                int length = bits.read(5) + 1;
                for (int i = 0; i < entries; ) {
                    int run = bits.read(ilog(entries - i));
                    if (run > entries - i || length > 32) {
                        throw invalid("codebook " + book + " has inconsistent ordered lengths");
                    }
                    i += run;
                    length++;
                }
            }
            int mapType = bits.read(4);
            if (mapType == 1 || mapType == 2) {
                bits.read(32);
                bits.read(32);
                int quantBits = bits.read(4) + 1;
                bits.read(1);
                long values = mapType == 1 ? lookup1Values(entries, dim) : (long) entries * dim;
                if (mapType == 1 && power(values + 2, dim) > Integer.MAX_VALUE) {
                    throw invalid("codebook " + book + " lookup table of dimension " + dim + " is too large");
                }
                if (!bits.has(values * quantBits)) {
                    throw invalid("codebook " + book + " values run past the packet");
                }
                bits.skip(values * quantBits);
            } else if (mapType != 0) {
                throw invalid("codebook " + book + " has lookup type " + mapType);
            }
        }
    }

    /** The largest v with v^dim <= entries. */
    private static long lookup1Values(int entries, int dim) {
        long v = (long) Math.floor(Math.pow(entries, 1.0 / dim));
        while (v > 0 && power(v, dim) > entries) {
            v--;
        }
        while (power(v + 1, dim) <= entries) {
            v++;
        }
        return v;
    }

    /** base^exponent, saturating at Long.MAX_VALUE. */
    private static long power(long base, int exponent) {
        long result = 1;
        for (int i = 0; i < exponent; i++) {
            if (base != 0 && result > Long.MAX_VALUE / base) {
                return Long.MAX_VALUE;
            }
            result *= base;
        }
        return result;
    }

    private static int ilog(long value) {
        return value <= 0 ? 0 : 64 - Long.numberOfLeadingZeros(value);
    }

    private static InvalidAudioException invalid(String what) {
        return new InvalidAudioException("invalid Ogg Vorbis: " + what);
    }

    /** Vorbis bit packing: least significant bit first. Reading past the end fails the check. */
    private static final class BitReader {
        private final byte[] data;
        private final int start;
        private final long totalBits;
        private long position;

        BitReader(byte[] data, int start, int length) {
            this.data = data;
            this.start = start;
            this.totalBits = Math.max(0, (long) length * 8);
        }

        boolean has(long bitCount) {
            return bitCount >= 0 && position + bitCount <= totalBits;
        }

        void skip(long bitCount) {
            position += bitCount;
        }

        int read(int bitCount) {
            if (!has(bitCount)) {
                throw invalid("setup header ends inside a codebook");
            }
            long value = 0;
            for (int i = 0; i < bitCount; i++, position++) {
                int bit = (data[start + (int) (position >>> 3)] >> (position & 7)) & 1;
                value |= (long) bit << i;
            }
            return (int) value;
        }
    }
}
