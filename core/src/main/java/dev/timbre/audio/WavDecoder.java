package dev.timbre.audio;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * RIFF/WAVE decoder written for hostile input: every size read from the file is bounded by the bytes that are
 * really there, and the seconds limit is checked from the header before the sample array is allocated.
 *
 * <p>Encodings: PCM 8 (unsigned), 16, 24 and 32 bit, IEEE float 32 and 64 bit, and WAVE_FORMAT_EXTENSIBLE with
 * a PCM or IEEE float subformat (the container width is decoded, as libsndfile does; valid-bits is ignored).
 * Scaling is libsndfile's float read (what soundfile and therefore librosa return): {@code int / 2^(bits-1)},
 * 8-bit {@code (x - 128) / 128}, floats as stored (doubles rounded to float).
 *
 * <p>Chunks other than {@code fmt } and {@code data} are skipped with their pad byte. A data chunk of a streaming
 * writer (size {@code 0} or {@code 0xFFFFFFFF}: not known when the header was written) is read up to the last
 * whole frame present, as libsndfile does; a header with no frame behind it decodes to 0 samples, which the loader
 * reports as empty. A data chunk that declares a definite size more than one frame beyond the end of the file is
 * a truncated upload and fails ({@code audio is truncated: header declares X s, file holds Y s}); a cut inside
 * the last frame drops that frame.
 *
 * <p>Stateless and thread-safe.
 */
final class WavDecoder {
    /** Little-endian 16-bit samples read straight out of the file's bytes. */
    private static final VarHandle S16LE = MethodHandles.byteArrayViewVarHandle(short[].class, ByteOrder.LITTLE_ENDIAN);
    private static final int WAVE_FORMAT_PCM = 0x0001;
    private static final int WAVE_FORMAT_IEEE_FLOAT = 0x0003;
    private static final int WAVE_FORMAT_EXTENSIBLE = 0xFFFE;
    /** What a streaming writer puts in a size field it cannot know yet (besides 0). */
    private static final long STREAMING_SIZE = 0xFFFFFFFFL;
    /** KSDATAFORMAT_SUBTYPE_* GUIDs: the format tag in the first two bytes, then this fixed tail. */
    private static final byte[] SUBFORMAT_GUID_TAIL = {
        0x00, 0x00, 0x00, 0x00, 0x10, 0x00, (byte) 0x80, 0x00, 0x00, (byte) 0xAA, 0x00, 0x38, (byte) 0x9B, 0x71};

    private record Format(int encoding, int channels, int sampleRate, int bitsPerSample, int blockAlign) {
    }

    DecodedAudio decode(byte[] data, DecodeContext context) {
        if (data.length < 12) {
            throw invalid("truncated RIFF header (" + data.length + " bytes, need 12)");
        }
        Format format = null;
        int position = 12;
        while (position + 8 <= data.length) {
            String id = AudioFormat.ascii(data, position, 4);
            long size = u32(data, position + 4);
            int body = position + 8;
            long available = data.length - body;
            if (id.equals("fmt ")) {
                if (format != null) {
                    throw invalid("more than one fmt chunk");
                }
                if (size < 16) {
                    throw invalid("fmt chunk of " + size + " bytes, need at least 16");
                }
                if (size > available) {
                    throw invalid("truncated fmt chunk: " + size + " bytes declared, " + available + " present");
                }
                format = parseFormat(data, body, (int) size);
            } else if (id.equals("data")) {
                if (format == null) {
                    throw invalid("data chunk before the fmt chunk");
                }
                return decodeSamples(data, body, dataBytes(size, available, format, context), format, context);
            }
            long next = body + size + (size & 1);
            if (next > data.length) {
                break; // a truncated trailing chunk: nothing after it can be read
            }
            position = (int) next;
        }
        if (format == null) {
            throw invalid("no fmt chunk (truncated header?)");
        }
        throw invalid("no data chunk (truncated header?)");
    }

    private static Format parseFormat(byte[] data, int at, int size) {
        int tag = u16(data, at);
        int channels = u16(data, at + 2);
        long sampleRate = u32(data, at + 4);
        int blockAlign = u16(data, at + 12);
        int bits = u16(data, at + 14);
        int encoding = tag;
        if (tag == WAVE_FORMAT_EXTENSIBLE) {
            if (size < 40) {
                throw invalid("WAVE_FORMAT_EXTENSIBLE fmt chunk of " + size + " bytes, need 40");
            }
            encoding = u16(data, at + 24);
            for (int i = 0; i < SUBFORMAT_GUID_TAIL.length; i++) {
                if (data[at + 26 + i] != SUBFORMAT_GUID_TAIL[i]) {
                    throw new InvalidAudioException("unsupported audio format: WAV extensible subformat "
                            + AudioText.hex(data, at + 24, 16).replace(" ", ""));
                }
            }
        }
        if (encoding != WAVE_FORMAT_PCM && encoding != WAVE_FORMAT_IEEE_FLOAT) {
            throw new InvalidAudioException("unsupported audio format: WAV encoding " + encodingName(encoding)
                    + " (supported: PCM, IEEE float)");
        }
        DecodeContext.checkRateAndChannels("invalid WAV", sampleRate, channels);
        boolean supportedBits = encoding == WAVE_FORMAT_PCM
                ? bits == 8 || bits == 16 || bits == 24 || bits == 32
                : bits == 32 || bits == 64;
        if (!supportedBits) {
            throw new InvalidAudioException("unsupported audio format: WAV "
                    + (encoding == WAVE_FORMAT_PCM ? "PCM" : "IEEE float") + " with " + bits + " bits per sample"
                    + (encoding == WAVE_FORMAT_PCM ? " (supported: 8, 16, 24, 32)" : " (supported: 32, 64)"));
        }
        int expectedAlign = channels * (bits / 8);
        if (blockAlign != expectedAlign) {
            throw invalid("block align " + blockAlign + " does not match " + channels + " channels of "
                    + bits + " bits (expected " + expectedAlign + ")");
        }
        return new Format(encoding, channels, (int) sampleRate, bits, blockAlign);
    }

    /** The data bytes to decode: all present for a streaming size, else the declared size if it is there. */
    private static long dataBytes(long declared, long available, Format format, DecodeContext context) {
        if (declared == 0 || declared == STREAMING_SIZE) {
            return available;
        }
        int align = format.blockAlign();
        context.checkDeclaredLength(declared / align, available / align, 1, format.sampleRate());
        return Math.min(declared, available);
    }

    private static DecodedAudio decodeSamples(byte[] data, int start, long dataBytes, Format format,
            DecodeContext context) {
        long frames = dataBytes / format.blockAlign();
        // the frames are counted from the bytes present: refuse before allocating
        context.checkLength(frames, format.sampleRate());
        float[] mono = new float[(int) frames];
        int channels = format.channels();
        float[] kept = context.keepChannels() ? new float[(int) (frames * channels)] : null;
        int width = format.bitsPerSample() / 8;
        boolean isFloat = format.encoding() == WAVE_FORMAT_IEEE_FLOAT;
        if (channels == 1 && width == 2 && !isFloat) {
            // the common upload (mono 16-bit PCM) without the per-sample dispatch below: the same values
            for (int frame = 0; frame < frames; frame++) {
                mono[frame] = (short) S16LE.get(data, start + 2 * frame) * 0x1p-15f;
            }
            if (kept != null) {
                System.arraycopy(mono, 0, kept, 0, mono.length);
            }
            return new DecodedAudio(mono, format.sampleRate(), channels, kept, ffmpegFormat(format));
        }
        int position = start;
        for (int frame = 0; frame < frames; frame++) {
            float sum = 0f; // float32 like numpy's mean of a float32 array over few channels
            for (int channel = 0; channel < channels; channel++, position += width) {
                float value = sample(data, position, width, isFloat);
                if (kept != null) {
                    kept[frame * channels + channel] = value;
                }
                sum += value;
            }
            mono[frame] = channels == 1 ? sum : sum / channels;
        }
        return new DecodedAudio(mono, format.sampleRate(), channels, kept, ffmpegFormat(format));
    }

    /** What FFmpeg's pcm_u8, pcm_s16le, pcm_s24le, pcm_s32le, pcm_f32le and pcm_f64le decoders output. */
    private static OriginalAudio.SampleFormat ffmpegFormat(Format format) {
        if (format.encoding() == WAVE_FORMAT_IEEE_FLOAT) {
            return format.bitsPerSample() == 32 ? OriginalAudio.SampleFormat.FLT : OriginalAudio.SampleFormat.DBL;
        }
        return switch (format.bitsPerSample()) {
            case 8 -> OriginalAudio.SampleFormat.U8;
            case 16 -> OriginalAudio.SampleFormat.S16;
            default -> OriginalAudio.SampleFormat.S32;
        };
    }

    private static float sample(byte[] data, int at, int width, boolean isFloat) {
        if (isFloat) {
            return width == 4
                    ? Float.intBitsToFloat((int) u32(data, at))
                    : (float) Double.longBitsToDouble(u32(data, at) | (u32(data, at + 4) << 32));
        }
        switch (width) {
            case 1:
                return ((data[at] & 0xFF) - 128) * 0x1p-7f;
            case 2:
                return (short) u16(data, at) * 0x1p-15f;
            case 3:
                return (((data[at + 2]) << 16) | ((data[at + 1] & 0xFF) << 8) | (data[at] & 0xFF)) * 0x1p-23f;
            default:
                return (float) (int) u32(data, at) * 0x1p-31f;
        }
    }

    private static String encodingName(int tag) {
        String name;
        switch (tag) {
            case 0x0002: name = "MS ADPCM"; break;
            case 0x0006: name = "A-law"; break;
            case 0x0007: name = "mu-law"; break;
            case 0x0011: name = "IMA ADPCM"; break;
            case 0x0031: name = "GSM 6.10"; break;
            case 0x0050: name = "MPEG"; break;
            case 0x0055: name = "MPEG Layer 3"; break;
            default: name = null;
        }
        return String.format("0x%04X", tag) + (name == null ? "" : " (" + name + ")");
    }

    private static InvalidAudioException invalid(String what) {
        return new InvalidAudioException("invalid WAV: " + what);
    }

    private static int u16(byte[] data, int at) {
        return (data[at] & 0xFF) | ((data[at + 1] & 0xFF) << 8);
    }

    private static long u32(byte[] data, int at) {
        return (data[at] & 0xFFL) | ((data[at + 1] & 0xFFL) << 8) | ((data[at + 2] & 0xFFL) << 16)
                | ((data[at + 3] & 0xFFL) << 24);
    }
}
