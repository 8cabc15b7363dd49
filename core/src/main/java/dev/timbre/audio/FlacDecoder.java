package dev.timbre.audio;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.SequenceInputStream;
import org.jflac.ChannelData;
import org.jflac.FLACDecoder;
import org.jflac.frame.Frame;

/**
 * Native FLAC through jFLAC's frame decoder.
 *
 * <p>The metadata blocks are read here, not by jFLAC: its readers allocate arrays sized by fields of the file
 * (a picture's or comment's length) before checking them against the data. Only STREAMINFO matters; jFLAC is
 * handed {@code fLaC}, that one block and the frames. Samples are scaled as libsndfile does
 * ({@code (x << (32 - bits)) · 2^-31}, i.e. {@code x / 2^(bits-1)}).
 *
 * <p>STREAMINFO's total samples is a claim, not a size: nothing is allocated from it beyond what the bytes of the
 * file could hold ({@link MonoBuffer}). After decoding, a stream that announced a length and holds more than one
 * block (the largest of STREAMINFO's maximum block size and the blocks decoded) less is a truncated upload; total
 * samples 0 (unknown, as a streaming encoder writes) reads to the end. Stateless and thread-safe (a jFLAC decoder
 * per call).
 */
final class FlacDecoder {
    private static final int STREAMINFO = 0;
    private static final int STREAMINFO_LENGTH = 34;

    DecodedAudio decode(byte[] data, int offset, DecodeContext context) {
        int position = offset + 4; // after "fLaC"
        byte[] streamInfo = null;
        boolean last = false;
        while (!last) {
            if (position + 4 > data.length) {
                throw invalid("truncated metadata block header at byte " + position);
            }
            int header = data[position] & 0xFF;
            last = (header & 0x80) != 0;
            int type = header & 0x7F;
            int length = ((data[position + 1] & 0xFF) << 16) | ((data[position + 2] & 0xFF) << 8)
                    | (data[position + 3] & 0xFF);
            int body = position + 4;
            if ((long) body + length > data.length) {
                throw invalid("metadata block of " + length + " bytes at byte " + position
                        + " runs past the end of the file (" + data.length + " bytes)");
            }
            if (streamInfo == null) {
                if (type != STREAMINFO || length < STREAMINFO_LENGTH) {
                    throw invalid("the first metadata block is not a STREAMINFO block");
                }
                streamInfo = new byte[STREAMINFO_LENGTH];
                System.arraycopy(data, body, streamInfo, 0, STREAMINFO_LENGTH);
            } else if (type == 127) {
                throw invalid("metadata block of the forbidden type 127");
            }
            position = body + length;
        }

        int sampleRate = ((streamInfo[10] & 0xFF) << 12) | ((streamInfo[11] & 0xFF) << 4)
                | ((streamInfo[12] & 0xF0) >> 4);
        int channels = ((streamInfo[12] & 0x0E) >> 1) + 1;
        int bitsPerSample = (((streamInfo[12] & 0x01) << 4) | ((streamInfo[13] & 0xF0) >> 4)) + 1;
        long totalFrames = ((streamInfo[13] & 0x0FL) << 32) | ((streamInfo[14] & 0xFFL) << 24)
                | ((streamInfo[15] & 0xFFL) << 16) | ((streamInfo[16] & 0xFFL) << 8) | (streamInfo[17] & 0xFFL);
        DecodeContext.checkRateAndChannels("invalid FLAC", sampleRate, channels);
        if (bitsPerSample < 4) {
            throw invalid(bitsPerSample + " bits per sample, need at least 4");
        }
        int declaredMaxBlockSize = ((streamInfo[2] & 0xFF) << 8) | (streamInfo[3] & 0xFF);

        byte[] head = new byte[4 + 4 + STREAMINFO_LENGTH];
        head[0] = 'f';
        head[1] = 'L';
        head[2] = 'a';
        head[3] = 'C';
        head[4] = (byte) 0x80; // last metadata block, type STREAMINFO
        head[7] = STREAMINFO_LENGTH;
        System.arraycopy(streamInfo, 0, head, 8, STREAMINFO_LENGTH);
        InputStream stream = context.guard(new SequenceInputStream(new ByteArrayInputStream(head),
                new ByteArrayInputStream(data, position, data.length - position)));

        MonoBuffer mono = new MonoBuffer(context, sampleRate, totalFrames);
        MonoBuffer kept = context.channelBuffer(sampleRate, totalFrames, channels);
        int shift = 32 - bitsPerSample;
        FLACDecoder decoder = new FLACDecoder(stream);
        long decoded = 0;
        int largestBlock = declaredMaxBlockSize;
        try {
            decoder.readMetadata();
            // Stop when jFLAC's own count reaches the announced total: past it, its frame search returns without
            // reading and its readNextFrame retries the same bad header forever
            while (totalFrames == 0 || decoder.getSamplesDecoded() < totalFrames) {
                context.checkDeadline();
                Frame frame = decoder.readNextFrame();
                if (frame == null) {
                    break;
                }
                if (frame.header.channels != channels) {
                    throw invalid("frame with " + frame.header.channels + " channels in a " + channels
                            + "-channel stream");
                }
                int blockSize = frame.header.blockSize;
                largestBlock = Math.max(largestBlock, blockSize);
                if (totalFrames > 0) {
                    blockSize = (int) Math.max(0, Math.min(blockSize, totalFrames - decoded));
                }
                ChannelData[] channelData = decoder.getChannelData();
                for (int i = 0; i < blockSize; i++) {
                    float sum = 0f;
                    for (int c = 0; c < channels; c++) {
                        float value = (float) (channelData[c].getOutput()[i] << shift) * 0x1p-31f;
                        if (kept != null) {
                            kept.add(value);
                        }
                        sum += value;
                    }
                    mono.add(channels == 1 ? sum : sum / channels);
                }
                decoded += blockSize;
            }
        } catch (DecodeContext.InputExhausted endOfInput) {
            // the frames present are decoded; soundfile likewise returns what a short stream holds
        } catch (IOException | RuntimeException e) {
            if (e instanceof InvalidAudioException invalidAudio) {
                throw invalidAudio;
            }
            throw invalid("undecodable frame after " + decoded + " samples (" + describe(e) + ")", e);
        }
        context.checkDeclaredLength(totalFrames, decoded, largestBlock, sampleRate);
        // FFmpeg's flac decoder: S16 up to 16 bits per sample, S32 above
        return new DecodedAudio(mono.toArray(), sampleRate, channels, kept == null ? null : kept.toArray(),
                bitsPerSample <= 16 ? OriginalAudio.SampleFormat.S16 : OriginalAudio.SampleFormat.S32);
    }

    static String describe(Throwable e) {
        String message = e.getMessage();
        String text = e.getClass().getSimpleName() + (message == null ? "" : ": " + message);
        text = text.replaceAll("[\\r\\n]+", " ");
        return text.length() > 160 ? text.substring(0, 160) + "…" : text;
    }

    private static InvalidAudioException invalid(String what) {
        return new InvalidAudioException("invalid FLAC: " + what);
    }

    private static InvalidAudioException invalid(String what, Throwable cause) {
        return new InvalidAudioException("invalid FLAC: " + what, cause);
    }
}
