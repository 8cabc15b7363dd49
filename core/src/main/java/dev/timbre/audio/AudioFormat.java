package dev.timbre.audio;

/**
 * The encodings {@link AudioLoader} decodes, recognised by their first bytes (never by file name).
 */
enum AudioFormat {
    WAV, FLAC, MP3, OGG_VORBIS;

    /** Where the stream of a format starts: after any ID3v2 tags for FLAC and MP3. */
    record Detected(AudioFormat format, int offset) {
    }

    /** ID3v2 tags may be stacked or followed by zero padding; more than this is not an audio file. */
    private static final int MAX_ID3_TAGS = 16;
    private static final int MAX_ZERO_PADDING = 64 * 1024;

    /**
     * Detects the format from the magic bytes.
     *
     * @throws InvalidAudioException {@code unsupported audio format: …} naming what the bytes look like
     */
    static Detected detect(byte[] data) {
        if (startsWith(data, 0, "RIFF") && (data.length < 12 || startsWith(data, 8, "WAVE"))) {
            // too short to tell: the WAV decoder reports the truncated header
            return new Detected(WAV, 0);
        }
        if (startsWith(data, 0, "RIFF")) {
            throw unsupported("RIFF file of type '" + ascii(data, 8, 4) + "', not WAVE");
        }
        if (startsWith(data, 0, "OggS")) {
            return new Detected(oggCodec(data), 0);
        }
        int offset = skipId3v2(data);
        if (startsWith(data, offset, "fLaC")) {
            return new Detected(FLAC, offset);
        }
        if (offset > 0) {
            // zero padding after a tag is common; the audio starts at the first non-zero byte
            int end = Math.min(data.length, offset + MAX_ZERO_PADDING);
            while (offset < end && data[offset] == 0) {
                offset++;
            }
        }
        if (isMpegAudioFrameHeader(data, offset)) {
            return new Detected(MP3, offset);
        }
        if (offset >= data.length && offset > 0) {
            throw new InvalidAudioException("unsupported audio format: ID3 tag without audio");
        }
        throw unsupported(describe(data, offset));
    }

    private static AudioFormat oggCodec(byte[] data) {
        // first page: 27-byte header, segment table, then the first packet of the stream
        if (data.length < 27) {
            throw new InvalidAudioException("invalid Ogg: truncated page header (" + data.length + " bytes)");
        }
        int segments = data[26] & 0xFF;
        int packet = 27 + segments;
        if (startsWith(data, packet, "\u0001vorbis")) {
            return OGG_VORBIS;
        }
        if (startsWith(data, packet, "OpusHead")) {
            throw unsupported("Ogg Opus (Ogg Vorbis is supported)");
        }
        if (startsWith(data, packet, "\u007fFLAC")) {
            throw unsupported("Ogg FLAC (Ogg Vorbis and native FLAC are supported)");
        }
        if (startsWith(data, packet, "Speex   ")) {
            throw unsupported("Ogg Speex (Ogg Vorbis is supported)");
        }
        throw unsupported("Ogg stream that is not Vorbis");
    }

    /** Offset after any ID3v2 tags at {@code 0}; the tag sizes are bounded by the data. */
    private static int skipId3v2(byte[] data) {
        int offset = 0;
        for (int tags = 0; tags < MAX_ID3_TAGS && startsWith(data, offset, "ID3"); tags++) {
            if (offset + 10 > data.length) {
                throw new InvalidAudioException("invalid MP3: truncated ID3v2 tag header");
            }
            int size = 0;
            for (int i = 6; i < 10; i++) {
                int b = data[offset + i] & 0xFF;
                if (b >= 0x80) {
                    throw new InvalidAudioException("invalid MP3: ID3v2 tag size is not a synchsafe integer");
                }
                size = (size << 7) | b;
            }
            boolean footer = (data[offset + 5] & 0x10) != 0;
            long next = (long) offset + 10 + size + (footer ? 10 : 0);
            if (next > data.length) {
                throw new InvalidAudioException("invalid MP3: ID3v2 tag of " + size
                        + " bytes runs past the end of the file (" + data.length + " bytes)");
            }
            offset = (int) next;
        }
        return offset;
    }

    /** MPEG audio frame header: 11 sync bits, a valid version, layer, bitrate index and sample rate. */
    static boolean isMpegAudioFrameHeader(byte[] data, int offset) {
        if (offset + 4 > data.length) {
            return false;
        }
        int b1 = data[offset + 1] & 0xFF;
        int b2 = data[offset + 2] & 0xFF;
        int version = (b1 >> 3) & 3;
        int layer = (b1 >> 1) & 3;
        int bitrateIndex = (b2 >> 4) & 0xF;
        int rateIndex = (b2 >> 2) & 3;
        return (data[offset] & 0xFF) == 0xFF && (b1 & 0xE0) == 0xE0
                && version != 1 && layer != 0 && bitrateIndex != 0xF && rateIndex != 3;
    }

    private static String describe(byte[] data, int offset) {
        if (data.length - offset >= 2 && (data[offset] & 0xFF) == 0xFF && (data[offset + 1] & 0xF6) == 0xF0) {
            return "AAC (ADTS)";
        }
        if (startsWith(data, offset, "FORM") && (startsWith(data, offset + 8, "AIFF")
                || startsWith(data, offset + 8, "AIFC"))) {
            return "AIFF";
        }
        if (startsWith(data, offset + 4, "ftyp")) {
            return "MP4/M4A (ftyp " + (data.length >= offset + 12 ? ascii(data, offset + 8, 4).trim() : "?") + ")";
        }
        String[][] magics = {
            {"\u0089PNG", "PNG image"}, {"GIF8", "GIF image"}, {"%PDF", "PDF document"},
            {"\u001a\u0045\u00df\u00a3", "Matroska/WebM"}, {"caff", "Core Audio (CAF)"}, {".snd", "Sun AU"},
            {"#!AMR", "AMR"}, {"MThd", "MIDI"}, {"PK\u0003\u0004", "ZIP archive"}, {"RF64", "RF64 (64-bit WAV)"},
            {"RIFX", "big-endian RIFF (RIFX)"}, {"wvpk", "WavPack"}, {"MAC ", "Monkey's Audio"},
            {"\u0030\u0026\u00b2\u0075", "ASF/WMA"}, {"{", "JSON or text"}, {"<", "XML/HTML or text"},
        };
        for (String[] magic : magics) {
            if (startsWith(data, offset, magic[0])) {
                return magic[1];
            }
        }
        if (data.length - offset >= 3 && (data[offset] & 0xFF) == 0xFF && (data[offset + 1] & 0xFF) == 0xD8
                && (data[offset + 2] & 0xFF) == 0xFF) {
            return "JPEG image";
        }
        if (offset >= data.length) {
            return "no data";
        }
        return "unrecognised header bytes " + AudioText.hex(data, offset, 8)
                + " (supported: WAV, FLAC, MP3, Ogg Vorbis)";
    }

    private static InvalidAudioException unsupported(String what) {
        return new InvalidAudioException("unsupported audio format: " + what);
    }

    /** Whether the bytes at {@code offset} are the ISO-8859-1 bytes of {@code magic}. */
    static boolean startsWith(byte[] data, int offset, String magic) {
        if (offset < 0 || offset + magic.length() > data.length) {
            return false;
        }
        for (int i = 0; i < magic.length(); i++) {
            if ((data[offset + i] & 0xFF) != magic.charAt(i)) {
                return false;
            }
        }
        return true;
    }

    /** Printable ASCII of the bytes, '?' for anything else (for error messages). */
    static String ascii(byte[] data, int offset, int length) {
        StringBuilder text = new StringBuilder();
        for (int i = offset; i < Math.min(data.length, offset + length); i++) {
            int c = data[i] & 0xFF;
            text.append(c >= 0x20 && c < 0x7F ? (char) c : '?');
        }
        return text.toString();
    }
}
