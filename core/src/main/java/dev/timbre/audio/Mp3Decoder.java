package dev.timbre.audio;

import java.io.ByteArrayInputStream;
import java.util.Arrays;
import javazoom.jl.decoder.Bitstream;
import javazoom.jl.decoder.Decoder;
import javazoom.jl.decoder.Header;
import javazoom.jl.decoder.JavaLayerException;
import javazoom.jl.decoder.SampleBuffer;

/**
 * MPEG audio (layers I–III) through JLayer's decoder, with the output librosa 0.9.1 gets from audioread and
 * ffmpeg: 16-bit samples scaled by 1/32768, gapless trimming from a LAME/Lavc info tag (the tag frame is not
 * audio; {@code delay + 529} samples are dropped at the start and the encoder padding at the end), channels
 * averaged in float32.
 *
 * <p>ID3v2 tags are skipped by {@link AudioFormat#detect} (JLayer would allocate the size a tag claims);
 * JLayer sees the data from the first frame header on. JLayer scales to 16 bits by 32700 rather than 32768; the
 * equalizer's per-band factor 32768/32700 restores the full scale.
 *
 * <p>The info tag's frame count is a claim: it presizes the output only as far as the bytes present could hold
 * ({@link MonoBuffer}). A stream holding more than one frame fewer than it counts is a truncated upload; without
 * a count (plain CBR files) the frames are read to the end. Stateless and thread-safe (a JLayer decoder per
 * call).
 */
final class Mp3Decoder {
    /** Samples between the encoder's input and a standard decoder's output (ffmpeg's 528 + 1). */
    private static final int DECODER_DELAY = 529;
    private static final float[] FULL_SCALE_EQUALIZER = fullScaleEqualizer();

    /** What the info (Xing/Info + LAME) frame says. */
    private record InfoTag(long frames, int startPadding, int endPadding, boolean hasGaplessInfo) {
    }

    DecodedAudio decode(byte[] data, int offset, DecodeContext context) {
        InfoTag info = parseInfoTag(data, offset);
        int firstHeaderRate = frequency(data, offset);
        int samplesPerFrame = samplesPerFrame(data, offset);
        long announcedFrames = -1;
        if (info != null && info.frames() > 0) {
            announcedFrames = info.frames() * samplesPerFrame
                    - (info.hasGaplessInfo() ? info.startPadding() + info.endPadding() : 0);
        }
        long skipAtStart = info != null && info.hasGaplessInfo() ? info.startPadding() + DECODER_DELAY : 0;
        long endBefore = info != null && info.hasGaplessInfo() && info.frames() > 0
                ? info.frames() * samplesPerFrame - info.endPadding() + DECODER_DELAY
                : Long.MAX_VALUE;

        Bitstream bitstream = new Bitstream(
                context.guard(new ByteArrayInputStream(data, offset, data.length - offset)));
        Decoder.Params params = new Decoder.Params();
        params.getInitialEqualizerSettings().setFrom(FULL_SCALE_EQUALIZER);
        Decoder decoder = new Decoder(params);
        MonoBuffer mono = null;
        MonoBuffer kept = null;
        int sampleRate = 0;
        int channels = 0;
        long frameIndex = 0;
        long position = 0; // decoder output samples so far, tag frame excluded
        try {
            while (true) {
                context.checkDeadline();
                Header header = bitstream.readFrame();
                if (header == null) {
                    break;
                }
                if (frameIndex++ == 0 && info != null) {
                    bitstream.closeFrame(); // the info tag frame carries no audio
                    continue;
                }
                int frameRate = header.frequency();
                int frameChannels = header.mode() == Header.SINGLE_CHANNEL ? 1 : 2;
                if (mono == null) {
                    sampleRate = frameRate;
                    channels = frameChannels;
                    DecodeContext.checkRateAndChannels("invalid MP3", sampleRate, channels);
                    mono = new MonoBuffer(context, sampleRate, announcedFrames);
                    kept = context.channelBuffer(sampleRate, announcedFrames, channels);
                } else if (frameRate != sampleRate || frameChannels != channels) {
                    throw invalid("frame " + frameIndex + " changes the stream from " + sampleRate + " Hz, "
                            + channels + " channels to " + frameRate + " Hz, " + frameChannels + " channels");
                }
                SampleBuffer output = (SampleBuffer) decoder.decodeFrame(header, bitstream);
                short[] interleaved = output.getBuffer();
                int frames = output.getBufferLength() / channels;
                for (int i = 0; i < frames; i++, position++) {
                    if (position < skipAtStart || position >= endBefore) {
                        continue;
                    }
                    float sum = 0f;
                    for (int c = 0; c < channels; c++) {
                        float value = interleaved[i * channels + c] * 0x1p-15f;
                        if (kept != null) {
                            kept.add(value);
                        }
                        sum += value;
                    }
                    mono.add(channels == 1 ? sum : sum / channels);
                }
                bitstream.closeFrame();
            }
        } catch (DecodeContext.InputExhausted endOfInput) {
            // the frames present are decoded
        } catch (JavaLayerException | RuntimeException e) {
            if (e instanceof InvalidAudioException invalidAudio) {
                throw invalidAudio;
            }
            throw new InvalidAudioException("invalid MP3: undecodable frame " + frameIndex + " ("
                    + FlacDecoder.describe(e) + ")", e);
        }
        long audioFramesRead = Math.max(0, frameIndex - 1); // the count excludes the tag frame
        if (info != null && info.frames() > 0 && info.frames() - audioFramesRead > 1) {
            // one frame short is a cut inside the last frame, which decoders drop silently
            context.checkDeclaredLength(announcedFrames, mono == null ? 0 : mono.size(), 0,
                    mono == null ? firstHeaderRate : sampleRate);
        }
        if (mono == null) {
            throw invalid("no audio frames");
        }
        // FFmpeg decodes MP3 with mp3float (planar float); JLayer's 16-bit output stands for it
        return new DecodedAudio(mono.toArray(), sampleRate, channels, kept == null ? null : kept.toArray(),
                OriginalAudio.SampleFormat.FLT);
    }

    /**
     * The Xing/Info tag of the first frame, as ffmpeg's {@code mp3_parse_info_tag} reads it, or null. Offsets
     * are bounded by the data.
     */
    private static InfoTag parseInfoTag(byte[] data, int at) {
        int b1 = data[at + 1] & 0xFF;
        boolean mpeg1 = ((b1 >> 3) & 3) == 3;
        boolean layer3 = ((b1 >> 1) & 3) == 1;
        boolean mono = ((data[at + 3] >> 6) & 3) == 3;
        if (!layer3) {
            return null;
        }
        int tag = at + 4 + (mpeg1 ? (mono ? 17 : 32) : (mono ? 9 : 17));
        if (!AudioFormat.startsWith(data, tag, "Xing") && !AudioFormat.startsWith(data, tag, "Info")) {
            return null;
        }
        if (tag + 8 > data.length) {
            return null;
        }
        long flags = be32(data, tag + 4);
        int p = tag + 8;
        long frames = -1;
        if ((flags & 1) != 0) {
            if (p + 4 > data.length) {
                return null;
            }
            frames = be32(data, p);
            p += 4;
        }
        p += ((flags & 2) != 0 ? 4 : 0) + ((flags & 4) != 0 ? 100 : 0) + ((flags & 8) != 0 ? 4 : 0);
        boolean lame = AudioFormat.startsWith(data, p, "LAME") || AudioFormat.startsWith(data, p, "Lavf")
                || AudioFormat.startsWith(data, p, "Lavc");
        if (lame && p + 24 <= data.length) {
            int v = ((data[p + 21] & 0xFF) << 16) | ((data[p + 22] & 0xFF) << 8) | (data[p + 23] & 0xFF);
            return new InfoTag(frames, v >> 12, v & 0xFFF, true);
        }
        return new InfoTag(frames, 0, 0, false);
    }

    private static int frequency(byte[] data, int at) {
        int version = ((data[at + 1] & 0xFF) >> 3) & 3; // 3 MPEG-1, 2 MPEG-2, 0 MPEG-2.5
        int index = ((data[at + 2] & 0xFF) >> 2) & 3;
        int base = new int[] {44100, 48000, 32000, 0}[index];
        return version == 3 ? base : version == 2 ? base / 2 : base / 4;
    }

    private static int samplesPerFrame(byte[] data, int at) {
        int version = ((data[at + 1] & 0xFF) >> 3) & 3;
        int layer = ((data[at + 1] & 0xFF) >> 1) & 3; // 3 layer I, 2 layer II, 1 layer III
        if (layer == 3) {
            return 384;
        }
        return layer == 2 || version == 3 ? 1152 : 576;
    }

    private static long be32(byte[] data, int at) {
        return ((data[at] & 0xFFL) << 24) | ((data[at + 1] & 0xFFL) << 16) | ((data[at + 2] & 0xFFL) << 8)
                | (data[at + 3] & 0xFFL);
    }

    private static float[] fullScaleEqualizer() {
        float[] bands = new float[32];
        // the equalizer's factor is 2^setting
        Arrays.fill(bands, (float) (Math.log(32768.0 / 32700.0) / Math.log(2)));
        return bands;
    }

    private static InvalidAudioException invalid(String what) {
        return new InvalidAudioException("invalid MP3: " + what);
    }
}
