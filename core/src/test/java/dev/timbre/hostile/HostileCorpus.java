package dev.timbre.hostile;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.timbre.testing.OggPages;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;

/**
 * The hostile input corpus (docs/reliability.md §2): every file and message is built here, deterministically, with its
 * expected outcome, and written to {@code src/test/resources/hostile/} with a {@code manifest.json} per folder.
 * {@link HostileCorpusTest} checks that the committed files are exactly what this class builds, and rewrites them
 * when run with {@code -Dtimbre.hostile.write=true}.
 *
 * <p>Outcome classes (docs/architecture.md §6): {@code permanent} = {@link dev.timbre.audio.InvalidAudioException} (the job
 * becomes FAILED with the message as its error); {@code ok} = decodes and embeds; for messages {@code poison} =
 * {@link dev.timbre.job.PoisonMessageException} (DLQ with the reason), {@code ok} = a valid job message, and
 * {@code permanent} = valid message whose job fails permanently at fetch time. {@code error} is a substring of
 * the one-line error.
 *
 * <p>Sizes stay small: a "2 GB" or "12-hour" file is a header that claims it, or a 12-hour recording at 1 Hz.
 */
public final class HostileCorpus {

    /** One corpus entry: its file name, bytes, expected class and a substring of the expected error. */
    public record Case(String file, byte[] bytes, String expected, String error, String why) {
    }

    static final Path FORMATS = Path.of("src", "test", "resources", "audio", "formats");
    public static final Path ROOT = Path.of("src", "test", "resources", "hostile");

    private HostileCorpus() {
    }

    // ------------------------------------------------------------------------------------------------ audio

    public static List<Case> audio() {
        List<Case> c = new ArrayList<>();
        byte[] pcm1s = sine16(22050, 22050);

        // ---- WAV: empty, truncated and lying headers
        c.add(perm("empty_object.wav", new byte[0], "audio is empty: 0 bytes", "an empty S3 object"));
        c.add(perm("wav_riff_only.wav", ascii("RIFF"), "invalid WAV: truncated RIFF header", "4 bytes"));
        c.add(perm("wav_truncated_fmt.wav", Arrays.copyOf(wav(1, 22050, 16, pcm1s), 30),
                "invalid WAV: truncated fmt chunk", "cut inside the fmt chunk"));
        c.add(perm("wav_no_data_chunk.wav", Arrays.copyOf(wav(1, 22050, 16, pcm1s), 36),
                "invalid WAV: no data chunk", "header ends after fmt"));
        c.add(perm("wav_data_before_fmt.wav", concat(ascii("RIFF"), le32(4 + 8 + 4 + 24), ascii("WAVE"),
                ascii("data"), le32(4), new byte[4], fmtChunk(1, 1, 22050, 16)),
                "invalid WAV: data chunk before the fmt chunk", "chunk order"));
        c.add(perm("wav_two_fmt_chunks.wav", concat(ascii("RIFF"), le32(0), ascii("WAVE"),
                fmtChunk(1, 1, 22050, 16), fmtChunk(1, 2, 22050, 16), dataChunk(pcm1s)),
                "invalid WAV: more than one fmt chunk", "ambiguous format"));
        c.add(perm("wav_fmt_size_4gb.wav", patch32(wav(1, 22050, 16, pcm1s), 16, 0xFFFFFFF0L),
                "invalid WAV: truncated fmt chunk", "fmt chunk claims 4 GB"));
        c.add(perm("wav_list_chunk_past_eof.wav", concat(ascii("RIFF"), le32(0), ascii("WAVE"),
                ascii("LIST"), le32(0x7FFFFFF0L), new byte[64]),
                "invalid WAV: no fmt chunk", "a chunk size past EOF before any fmt"));
        c.add(perm("wav_0_channels.wav", wav(0, 22050, 16, pcm1s), "invalid WAV: 0 channels", "0 channels"));
        c.add(perm("wav_65535_channels.wav", wav(65535, 22050, 16, pcm1s),
                "invalid WAV: 65535 channels exceeds the limit of 64", "65535 channels"));
        c.add(perm("wav_0_hz.wav", wav(1, 0, 16, pcm1s), "invalid WAV: sample rate 0 Hz is outside",
                "0 Hz"));
        c.add(perm("wav_4_ghz.wav", wav(1, 4_000_000_000L, 16, pcm1s),
                "invalid WAV: sample rate 4000000000 Hz is outside", "4 GHz"));
        c.add(perm("wav_block_align_lie.wav", patch16(wav(1, 22050, 16, pcm1s), 32, 7),
                "invalid WAV: block align 7 does not match", "block align disagrees with channels x bits"));
        c.add(perm("wav_pcm_12_bits.wav", wav(1, 22050, 12, pcm1s),
                "unsupported audio format: WAV PCM with 12 bits per sample", "12-bit PCM"));
        c.add(perm("wav_ms_adpcm.wav", patch16(wav(1, 22050, 16, pcm1s), 20, 2),
                "unsupported audio format: WAV encoding 0x0002 (MS ADPCM)", "compressed WAV"));
        c.add(perm("wav_extensible_bad_guid.wav", extensibleWithGuidTail(pcm1s),
                "unsupported audio format: WAV extensible subformat", "unknown subformat GUID"));
        c.add(perm("wav_header_no_frames.wav", wav(1, 22050, 16, new byte[0]), "audio is empty: 0 samples",
                "data chunk of 0 bytes"));
        c.add(perm("wav_one_sample.wav", wav(1, 22050, 16, new byte[] {0x10, 0x20}),
                "audio too short: 1 samples at 22050 Hz after resampling, need at least 385", "1 sample"));
        c.add(perm("wav_f32_nan.wav", wav(1, 22050, 32, 3, floats(22050, Float.NaN, 100)),
                "audio contains non-finite samples (NaN or Inf) at sample 100", "NaN floats"));
        c.add(perm("wav_f32_inf.wav", wav(1, 22050, 32, 3, floats(22050, Float.POSITIVE_INFINITY, 0)),
                "audio contains non-finite samples (NaN or Inf) at sample 0", "+Inf floats"));
        c.add(perm("wav_f64_negative_inf.wav", wav(1, 22050, 64, 3, doubles(22050, Double.NEGATIVE_INFINITY, 7)),
                "audio contains non-finite samples (NaN or Inf) at sample 7", "-Inf doubles"));
        c.add(perm("wav_f64_overflows_float.wav", wav(1, 22050, 64, 3, doubles(22050, 1e300, 3)),
                "audio contains non-finite samples (NaN or Inf) at sample 3", "a double too big for float32"));
        c.add(perm("wav_12_hours_at_1_hz.wav", wav(1, 1, 8, filled(12 * 3600, (byte) 0x80)),
                "audio too long: 43200.0 s exceeds the limit of 600.0 s", "a real 12-hour recording (at 1 Hz)"));
        c.add(perm("wav_601_s_at_1_hz.wav", wav(1, 1, 8, filled(601, (byte) 0x90)),
                "audio too long: 601.0 s exceeds the limit of 600.0 s", "one second over the limit"));
        c.add(perm("riff_avi.wav", concat(ascii("RIFF"), le32(4), ascii("AVI ")),
                "unsupported audio format: RIFF file of type 'AVI '", "RIFF but not WAVE"));
        c.add(perm("rf64.wav", concat(ascii("RF64"), le32(0xFFFFFFFFL), ascii("WAVE"), new byte[32]),
                "unsupported audio format: RF64 (64-bit WAV)", "RF64"));
        // a definite size longer than the file is a truncated upload; a streaming writer's size reads to the end
        c.add(perm("wav_2gb_sparse_header.wav",
                patch32(patch32(wav(1, 22050, 16, pcm1s), 4, 0x7FFFFFFFL), 40, 0x7FFFFFF0L),
                "audio is truncated: header declares 48695.774 s, file holds 1.0 s",
                "RIFF and data sizes claim 2 GB; 1 s present"));
        c.add(ok("wav_streaming_size_ffffffff.wav", patch32(wav(1, 22050, 16, pcm1s), 40, 0xFFFFFFFFL),
                "a streaming writer's 0xFFFFFFFF data size"));
        c.add(ok("wav_streaming_size_0.wav", patch32(patch32(wav(1, 22050, 16, pcm1s), 4, 0), 40, 0),
                "a streaming writer's 0 RIFF and data sizes"));
        c.add(perm("wav_12_hour_header.wav", patch32(wav(1, 22050, 16, pcm1s), 40, 12L * 3600 * 22050 * 2),
                "audio is truncated: header declares 43200.0 s, file holds 1.0 s",
                "data size claims 12 hours; 1 s present"));
        c.add(ok("wav_odd_byte_truncated.wav", Arrays.copyOf(wav(2, 22050, 16, sine16(22050, 44100)),
                44 + 44100 * 2 + 3), "stereo cut mid-frame"));
        c.add(ok("wav_silence.wav", wav(1, 22050, 16, new byte[44100]), "1 s of digital silence"));
        c.add(ok("wav_full_scale_square.wav", wav(1, 22050, 16, square16(22050)), "clipped square wave"));

        // ---- FLAC
        byte[] flac = read("flac_s24_mono_16000.flac");
        c.add(perm("flac_magic_only.flac", ascii("fLaC"), "invalid FLAC: truncated metadata block header",
                "magic and nothing else"));
        c.add(perm("flac_block_past_eof.flac", concat(Arrays.copyOf(flac, 42),
                new byte[] {(byte) 0x84, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}, new byte[16]),
                "runs past the end of the file", "a 16 MB VORBIS_COMMENT block in a tiny file"));
        c.add(perm("flac_first_block_not_streaminfo.flac", patch8(flac, 4, 0x04),
                "invalid FLAC: the first metadata block is not a STREAMINFO block", "no STREAMINFO"));
        c.add(perm("flac_12_hour_header.flac", flacTotalSamples(flac, 12L * 3600 * 16000),
                "audio is truncated: header declares 43200.0 s, file holds 1.0 s",
                "STREAMINFO claims 12 hours; 1 s present"));
        c.add(perm("flac_200_bytes_10_min_768khz.flac", flacTiny768kHz(flac, 600L * 768_000),
                "audio is truncated: header declares 600.0 s, file holds 0.0 s",
                "200 bytes whose STREAMINFO claims 10 minutes at 768 kHz (once a 1.8 GB allocation)"));
        c.add(perm("flac_0_hz.flac", flacSampleRate(flac, 0), "invalid FLAC: sample rate 0 Hz is outside",
                "0 Hz"));
        c.add(perm("flac_bogus_frame_block_size.flac", flacBogusFrames(flac),
                "audio is truncated: header declares 1.0 s, file holds 0.0 s", "every frame header's block-size"
                        + " code set to the reserved value 0: no frame is valid, none of the declared 1 s is there"));
        c.add(ok("flac_bogus_streaminfo_block_sizes.flac", flacStreamInfoBlockSizes(flac, 65535, 1),
                "STREAMINFO min block 65535 > max block 1; the frames themselves are fine"));
        c.add(perm("flac_truncated_half.flac", Arrays.copyOf(flac, flac.length / 2),
                "audio is truncated: header declares 1.0 s, file holds 0.256 s", "an upload cut in half"));
        c.add(ok("flac_truncated_half_length_unknown.flac", flacTotalSamples(Arrays.copyOf(flac, flac.length / 2),
                0), "cut in half, STREAMINFO total samples 0 (unknown): read to the end"));

        // ---- MP3
        byte[] mp3 = read("mp3_mono_22050.mp3");
        c.add(perm("mp3_id3_only.mp3", concat(id3Header(1000), new byte[1000]),
                "unsupported audio format: ID3 tag without audio", "an ID3v2 tag and no frames"));
        c.add(perm("mp3_id3_size_past_eof.mp3", concat(id3Header(200_000_000), new byte[100]),
                "runs past the end of the file", "ID3v2 tag claims 200 MB"));
        c.add(perm("mp3_id3_not_synchsafe.mp3", concat(ascii("ID3"), new byte[] {4, 0, 0, (byte) 0xFF,
                (byte) 0xFF, (byte) 0xFF, (byte) 0xFF}, mp3), "ID3v2 tag size is not a synchsafe integer",
                "tag size bytes with the high bit set"));
        c.add(perm("mp3_first_frame_only.mp3", Arrays.copyOf(mp3, 200), "audio", "cut inside the 1st frame"));
        c.add(perm("mp3_header_then_random.mp3", concat(new byte[] {(byte) 0xFF, (byte) 0xFB, (byte) 0x90,
                0x64}, random(7, 16_000)), "", "a valid frame header and 16 kB of noise"));
        c.add(perm("mp3_truncated_half.mp3", Arrays.copyOf(mp3, mp3.length / 2),
                "audio is truncated: header declares 1.0 s, file holds 0.446 s", "an upload cut in half"));
        c.add(perm("mp3_info_frames_max.mp3", patch32be(mp3, 21, 0xFFFFFFFFL), "audio is truncated: header declares",
                "the Info tag counts 2^32 - 1 frames (once a 115 MB allocation); 1 s present"));
        c.add(ok("mp3_truncated_half_no_frame_count.mp3", Arrays.copyOf(patch8(mp3, 20, 0x0E), mp3.length / 2),
                "cut in half, no frame count in the Info tag: read to the end"));

        // ---- Ogg
        byte[] ogg = read("ogg_stereo_44100.ogg");
        c.add(perm("ogg_truncated_page_header.ogg", Arrays.copyOf(ogg, 20),
                "invalid Ogg: truncated page header (20 bytes)", "20 bytes"));
        c.add(perm("ogg_huge_page.ogg", oggHugeSecondPage(ogg),
                "invalid Ogg Vorbis: the stream ends inside its headers", "2nd page claims 255 x 255 bytes"));
        c.add(perm("ogg_0_channels.ogg", oggPatchIdHeader(ogg, 11, 0), "invalid Ogg Vorbis: 0 channels",
                "0 channels, checksum fixed"));
        c.add(perm("ogg_4_ghz.ogg", oggPatchIdHeaderRate(ogg, 4_000_000_000L),
                "invalid Ogg Vorbis: sample rate 4000000000 Hz is outside", "4 GHz, checksum fixed"));
        c.add(perm("ogg_bad_block_sizes.ogg", oggPatchIdHeader(ogg, 28, 0x3D),
                "invalid Ogg Vorbis: block sizes 2^13 and 2^3", "short block larger than long"));
        c.add(perm("ogg_opus.ogg", oggOpus(), "unsupported audio format: Ogg Opus", "Opus is not Vorbis"));
        c.add(ok("ogg_bad_crc_page.ogg", flipByte(ogg, 9000), "a damaged page (checksum wrong) is skipped"));

        // ---- not audio at all
        c.add(perm("random_bytes_4k.bin", random(1, 4096), "unsupported audio format", "4 kB of noise"));
        c.add(perm("random_bytes_64k.bin", random(2, 65536), "unsupported audio format", "64 kB of noise"));
        c.add(perm("png_image.wav", concat(new byte[] {(byte) 0x89}, ascii("PNG\r\n\u001a\n"), random(3, 200)),
                "unsupported audio format: PNG image", "an image named .wav"));
        c.add(perm("json_text.wav", ascii("{\"not\": \"audio\"}"), "unsupported audio format: JSON or text",
                "text"));
        c.add(perm("aiff.aif", concat(ascii("FORM"), be32(100), ascii("AIFF"), new byte[100]),
                "unsupported audio format: AIFF", "AIFF"));
        return c;
    }

    // --------------------------------------------------------------------------------------------- messages

    /** Fixed ids: the messages are files, so their job rows are created with these ids by the tests. */
    public static final String OK_ID = "6f1c2a4e-8d0b-4b1e-9a53-0c3d5e7f9a11";

    public static List<Case> messages() {
        List<Case> c = new ArrayList<>();
        c.add(poison("not_json.txt", ascii("voice_processing please"), "message body is not valid JSON",
                "plain text"));
        c.add(poison("empty.txt", new byte[0], "message body is empty", "0 bytes"));
        c.add(poison("json_array.json", utf8("[" + body("a", "k") + "]"),
                "message body must be a JSON object, was an array", "the object wrapped in an array"));
        c.add(poison("json_string.json", utf8("\"hello\""), "message body must be a JSON object, was a string",
                "a JSON string"));
        c.add(poison("nested_10000_deep.json", utf8("{\"job_id\":\"" + OK_ID + "\",\"metadata\":"
                        + "{\"a\":".repeat(10_000) + "1" + "}".repeat(10_000) + "}"),
                "message body is not valid JSON: Document nesting depth", "metadata nested 10 000 deep"));
        c.add(poison("nested_arrays_10000_deep.json", utf8("[".repeat(10_000) + "]".repeat(10_000)),
                "message body is not valid JSON: Document nesting depth", "arrays nested 10 000 deep"));
        c.add(poison("string_field_1mib.json", utf8(body("v".repeat(1 << 20), "k")),
                "over the limit of 262144", "voice_id of 1 MiB"));
        c.add(poison("invalid_utf8.bin", concat(utf8("{\"job_id\":\"" + OK_ID + "\",\"voice_id\":\"a"),
                new byte[] {(byte) 0xC3, 0x28}, utf8("\",\"s3_key\":\"k\"}")),
                "message body is not valid UTF-8", "a broken 2-byte sequence"));
        c.add(poison("overlong_utf8_slash.bin", concat(utf8("{\"job_id\":\"" + OK_ID
                        + "\",\"voice_id\":\"v\",\"s3_key\":\".."), new byte[] {(byte) 0xC0, (byte) 0xAF},
                utf8("etc\"}")), "message body is not valid UTF-8", "overlong '/' (C0 AF)"));
        c.add(poison("job_id_not_uuid.json", utf8(bodyWithId("job-42", "v", "k")), "job_id is not a UUID: \"job-42\"",
                "a name instead of a UUID"));
        c.add(poison("job_id_short_form.json", utf8(bodyWithId("1-2-3-4-5", "v", "k")),
                "job_id is not a UUID: \"1-2-3-4-5\"", "UUID.fromString accepts it, no producer writes it"));
        c.add(poison("job_id_sql.json", utf8(bodyWithId("1'; DROP TABLE voice_processing_jobs;--", "v", "k")),
                "job_id is not a UUID", "SQL in the primary key"));
        c.add(poison("job_id_number.json", utf8("{\"job_id\":42,\"voice_id\":\"v\",\"s3_key\":\"k\"}"),
                "job_id must be a string, was a number", "wrong type"));
        c.add(poison("missing_s3_key.json", utf8("{\"job_id\":\"" + OK_ID + "\",\"voice_id\":\"v\"}"),
                "required field s3_key is missing", "required field absent"));
        c.add(poison("duplicate_job_id.json", utf8("{\"job_id\":\"" + OK_ID + "\",\"job_id\":\""
                + "00000000-0000-0000-0000-000000000000\",\"voice_id\":\"v\",\"s3_key\":\"k\"}"),
                "message body is not valid JSON: Duplicate field 'job_id'", "which id wins is ambiguous"));
        c.add(poison("trailing_garbage.json", utf8(body("v", "k") + " {}"), "message body is not valid JSON",
                "two documents"));
        c.add(poison("nan_in_metadata.json", utf8("{\"job_id\":\"" + OK_ID
                + "\",\"voice_id\":\"v\",\"s3_key\":\"k\",\"metadata\":{\"gain\":NaN}}"),
                "message body is not valid JSON", "NaN is not JSON"));
        c.add(poison("nul_in_voice_id.json", utf8(body("a\\u0000b", "k")), "voice_id must not contain a NUL",
                "Postgres text cannot hold NUL"));
        c.add(poison("s3_key_too_long.json", utf8(body("v", "k".repeat(1025))),
                "s3_key must be 1..1024 characters, was 1025", "S3 keys end at 1024 bytes"));
        c.add(poison("bucket_path.json", utf8(bodyWithBucket("../etc", "k")),
                "s3_bucket is not a valid S3 bucket name: \"../etc\"", "a path as bucket"));
        c.add(poison("metadata_array.json", utf8("{\"job_id\":\"" + OK_ID
                + "\",\"voice_id\":\"v\",\"s3_key\":\"k\",\"metadata\":[1]}"),
                "metadata must be a JSON object, was an array", "metadata is an object"));
        // valid messages: the payloads are hostile, the handling is harmless
        c.add(ok("metadata_filename_traversal.json", utf8(bodyWithFilename("../../../../etc/passwd")),
                "metadata.filename is informational, never a path"));
        c.add(ok("metadata_filename_absolute.json", utf8(bodyWithFilename("/etc/shadow")),
                "metadata.filename is informational, never a path"));
        c.add(ok("sql_meta_characters.json",
                utf8(body("v'); DROP TABLE voice_processing_jobs;-- \\\"%_\\\\", "k")),
                "bound parameters: stored verbatim"));
        c.add(ok("unknown_fields.json", utf8("{\"job_id\":\"" + OK_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"k\","
                + "\"priority\":9,\"callback_url\":\"http://169.254.169.254/\",\"__proto__\":{\"admin\":true}}"),
                "ignored"));
        c.add(ok("metadata_200k.json", utf8("{\"job_id\":\"" + OK_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"k\","
                + "\"metadata\":{\"notes\":\"" + "n".repeat(200_000) + "\"}}"), "under the 256 KiB limit"));
        c.add(fetch("s3_key_traversal.json", utf8(body("v", "../../../../etc/hostname")),
                "has a \".\" or \"..\" path segment", "a legal S3 key, but dot segments may be resolved by"
                        + " clients and servers: refused before any request; never a file path"));
        c.add(fetch("s3_key_dot_segment_escape.json", utf8(body("v", "uploads/v/../other/take.wav")),
                "has a \".\" or \"..\" path segment", "would escape the uploads/v/ prefix where resolved"));
        c.add(fetch("s3_key_absolute.json", utf8(body("v", "/etc/hostname")), "//etc/hostname",
                "a legal S3 key with a leading slash, sent only to S3 (where it does not exist)"));
        c.add(fetch("bucket_not_allowed.json", utf8(bodyWithBucket("someone-elses-bucket", "k")),
                "bucket \"someone-elses-bucket\" is not in the allowed list", "the allow-list is enforced"));
        return c;
    }

    static String body(String voiceId, String key) {
        return bodyWithId(OK_ID, voiceId, key);
    }

    static String bodyWithId(String id, String voiceId, String key) {
        return "{\"job_id\":\"" + id + "\",\"voice_id\":\"" + voiceId + "\",\"s3_key\":\"" + key + "\"}";
    }

    static String bodyWithBucket(String bucket, String key) {
        return "{\"job_id\":\"" + OK_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"" + key + "\",\"s3_bucket\":\""
                + bucket + "\"}";
    }

    static String bodyWithFilename(String filename) {
        return "{\"job_id\":\"" + OK_ID + "\",\"voice_id\":\"v\",\"s3_key\":\"uploads/v/take.wav\","
                + "\"metadata\":{\"filename\":\"" + filename + "\"}}";
    }

    // ---------------------------------------------------------------------------------------------- writing

    /** Writes both folders and their manifests under {@code root}. */
    public static void write(Path root) throws IOException {
        writeFolder(root.resolve("audio"), audio());
        writeFolder(root.resolve("messages"), messages());
    }

    private static void writeFolder(Path dir, List<Case> cases) throws IOException {
        Files.createDirectories(dir);
        for (Case c : cases) {
            Files.write(dir.resolve(c.file()), c.bytes());
        }
        Files.writeString(dir.resolve("manifest.json"), manifest(cases));
    }

    static String manifest(List<Case> cases) {
        ObjectMapper json = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);
        ArrayNode array = json.createArrayNode();
        for (Case c : cases) {
            ObjectNode entry = array.addObject();
            entry.put("file", c.file());
            entry.put("expected", c.expected());
            entry.put("error", c.error());
            entry.put("why", c.why());
        }
        try {
            return json.writeValueAsString(array) + "\n";
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Reads a committed manifest. */
    public static List<Case> readManifest(Path dir) throws IOException {
        JsonNode array = new ObjectMapper().readTree(dir.resolve("manifest.json").toFile());
        List<Case> cases = new ArrayList<>();
        for (JsonNode e : array) {
            String file = e.get("file").asText();
            cases.add(new Case(file, Files.readAllBytes(dir.resolve(file)), e.get("expected").asText(),
                    e.get("error").asText(), e.get("why").asText()));
        }
        return cases;
    }

    public static void main(String[] args) throws IOException {
        write(args.length > 0 ? Path.of(args[0]) : ROOT);
    }

    // ---------------------------------------------------------------------------------------------- helpers

    private static Case perm(String file, byte[] bytes, String error, String why) {
        return new Case(file, bytes, "permanent", error, why);
    }

    private static Case ok(String file, byte[] bytes, String why) {
        return new Case(file, bytes, "ok", "", why);
    }

    private static Case poison(String file, byte[] bytes, String error, String why) {
        return new Case(file, bytes, "poison", error, why);
    }

    private static Case fetch(String file, byte[] bytes, String error, String why) {
        return new Case(file, bytes, "permanent", error, why);
    }

    static byte[] read(String name) {
        try {
            return Files.readAllBytes(FORMATS.resolve(name));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static byte[] ascii(String s) {
        return s.getBytes(StandardCharsets.ISO_8859_1);
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    static byte[] concat(byte[]... parts) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        for (byte[] p : parts) {
            out.writeBytes(p);
        }
        return out.toByteArray();
    }

    static byte[] le32(long v) {
        return new byte[] {(byte) v, (byte) (v >> 8), (byte) (v >> 16), (byte) (v >> 24)};
    }

    static byte[] be32(long v) {
        return new byte[] {(byte) (v >> 24), (byte) (v >> 16), (byte) (v >> 8), (byte) v};
    }

    static byte[] le16(int v) {
        return new byte[] {(byte) v, (byte) (v >> 8)};
    }

    static byte[] patch8(byte[] data, int at, int v) {
        byte[] copy = data.clone();
        copy[at] = (byte) v;
        return copy;
    }

    static byte[] patch16(byte[] data, int at, int v) {
        byte[] copy = data.clone();
        System.arraycopy(le16(v), 0, copy, at, 2);
        return copy;
    }

    static byte[] patch32(byte[] data, int at, long v) {
        byte[] copy = data.clone();
        System.arraycopy(le32(v), 0, copy, at, 4);
        return copy;
    }

    static byte[] flipByte(byte[] data, int at) {
        return patch8(data, at, data[at] ^ 0x5A);
    }

    static byte[] filled(int n, byte value) {
        byte[] b = new byte[n];
        Arrays.fill(b, value);
        return b;
    }

    public static byte[] random(long seed, int n) {
        byte[] b = new byte[n];
        new Random(seed).nextBytes(b);
        return b;
    }

    static byte[] fmtChunk(int tag, int channels, long rate, int bits) {
        int align = channels * (bits / 8);
        return concat(ascii("fmt "), le32(16), le16(tag), le16(channels), le32(rate),
                le32(rate * align), le16(align), le16(bits));
    }

    static byte[] dataChunk(byte[] payload) {
        return concat(ascii("data"), le32(payload.length), payload, (payload.length & 1) == 1 ? new byte[1]
                : new byte[0]);
    }

    /** A canonical 44-byte-header WAV (fmt at 12..35, data size at 40). */
    static byte[] wav(int channels, long rate, int bits, byte[] payload) {
        return wav(channels, rate, bits, 1, payload);
    }

    static byte[] wav(int channels, long rate, int bits, int tag, byte[] payload) {
        byte[] fmt = fmtChunk(tag, channels, rate, bits);
        byte[] data = dataChunk(payload);
        return concat(ascii("RIFF"), le32(4 + fmt.length + data.length), ascii("WAVE"), fmt, data);
    }

    private static byte[] extensibleWithGuidTail(byte[] pcm) {
        byte[] fmt = concat(ascii("fmt "), le32(40), le16(0xFFFE), le16(1), le32(22050), le32(44100), le16(2),
                le16(16), le16(22), le16(16), le32(4), le16(1), random(4, 14));
        byte[] data = dataChunk(pcm);
        return concat(ascii("RIFF"), le32(4 + fmt.length + data.length), ascii("WAVE"), fmt, data);
    }

    static byte[] sine16(int frames, int rate) {
        ByteBuffer b = ByteBuffer.allocate(frames * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < frames; i++) {
            b.putShort((short) Math.round(12000 * Math.sin(2 * Math.PI * 220 * i / rate)
                    + 4000 * Math.sin(2 * Math.PI * 1330 * i / rate)));
        }
        return b.array();
    }

    static byte[] square16(int frames) {
        ByteBuffer b = ByteBuffer.allocate(frames * 2).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < frames; i++) {
            b.putShort((i / 50) % 2 == 0 ? Short.MAX_VALUE : Short.MIN_VALUE);
        }
        return b.array();
    }

    static byte[] floats(int frames, float bad, int at) {
        ByteBuffer b = ByteBuffer.allocate(frames * 4).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < frames; i++) {
            b.putFloat(i == at ? bad : (float) (0.3 * Math.sin(i * 0.05)));
        }
        return b.array();
    }

    static byte[] doubles(int frames, double bad, int at) {
        ByteBuffer b = ByteBuffer.allocate(frames * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < frames; i++) {
            b.putDouble(i == at ? bad : 0.3 * Math.sin(i * 0.05));
        }
        return b.array();
    }

    static byte[] id3Header(int size) {
        return concat(ascii("ID3"), new byte[] {4, 0, 0}, new byte[] {(byte) ((size >> 21) & 0x7F),
                (byte) ((size >> 14) & 0x7F), (byte) ((size >> 7) & 0x7F), (byte) (size & 0x7F)});
    }

    // FLAC: "fLaC", block header at 4..7, STREAMINFO body at 8..41
    private static byte[] flacTotalSamples(byte[] flac, long total) {
        byte[] copy = flac.clone();
        copy[8 + 13] = (byte) ((copy[8 + 13] & 0xF0) | ((total >> 32) & 0x0F));
        copy[8 + 14] = (byte) (total >> 24);
        copy[8 + 15] = (byte) (total >> 16);
        copy[8 + 16] = (byte) (total >> 8);
        copy[8 + 17] = (byte) total;
        return copy;
    }

    /** STREAMINFO alone (rewritten to 768 kHz and {@code total}), then the start of the first frame: 200 bytes. */
    private static byte[] flacTiny768kHz(byte[] flac, long total) {
        int frames = 4;
        boolean last = false;
        while (!last) {
            last = (flac[frames] & 0x80) != 0;
            frames += 4 + (((flac[frames + 1] & 0xFF) << 16) | ((flac[frames + 2] & 0xFF) << 8)
                    | (flac[frames + 3] & 0xFF));
        }
        byte[] tiny = concat(Arrays.copyOf(flac, 42), Arrays.copyOfRange(flac, frames, frames + 158));
        tiny[4] = (byte) 0x80; // STREAMINFO is the last metadata block
        return flacSampleRate(flacTotalSamples(tiny, total), 768_000);
    }

    private static byte[] patch32be(byte[] data, int at, long value) {
        byte[] copy = data.clone();
        for (int i = 0; i < 4; i++) {
            copy[at + i] = (byte) (value >>> (24 - 8 * i));
        }
        return copy;
    }

    private static byte[] flacSampleRate(byte[] flac, int rate) {
        byte[] copy = flac.clone();
        copy[8 + 10] = (byte) (rate >> 12);
        copy[8 + 11] = (byte) (rate >> 4);
        copy[8 + 12] = (byte) ((copy[8 + 12] & 0x0F) | ((rate & 0x0F) << 4));
        return copy;
    }

    private static byte[] flacStreamInfoBlockSizes(byte[] flac, int min, int max) {
        byte[] copy = flac.clone();
        copy[8] = (byte) (min >> 8);
        copy[9] = (byte) min;
        copy[10] = (byte) (max >> 8);
        copy[11] = (byte) max;
        return copy;
    }

    /** Sets the block-size code of every frame header (sync 0xFFF8) to the reserved value 0. */
    private static byte[] flacBogusFrames(byte[] flac) {
        byte[] copy = flac.clone();
        int frames = 0;
        for (int i = firstFrame(copy); i + 3 < copy.length; i++) {
            if ((copy[i] & 0xFF) == 0xFF && (copy[i + 1] & 0xFE) == 0xF8) {
                copy[i + 2] = (byte) (copy[i + 2] & 0x0F);
                frames++;
            }
        }
        if (frames == 0) {
            throw new IllegalStateException("no FLAC frame found");
        }
        return copy;
    }

    private static int firstFrame(byte[] flac) {
        int p = 4;
        while (true) {
            boolean last = (flac[p] & 0x80) != 0;
            int length = ((flac[p + 1] & 0xFF) << 16) | ((flac[p + 2] & 0xFF) << 8) | (flac[p + 3] & 0xFF);
            p += 4 + length;
            if (last) {
                return p;
            }
        }
    }

    // Ogg: page = 27-byte header, segment table, body; the CRC covers the page with its CRC field zeroed

    /** Patches a byte of the identification header (the first packet, on the first page). */
    private static byte[] oggPatchIdHeader(byte[] ogg, int offsetInPacket, int value) {
        byte[] copy = ogg.clone();
        int packet = 27 + (copy[26] & 0xFF);
        copy[packet + offsetInPacket] = (byte) value;
        OggPages.fixCrc(copy, 0);
        return copy;
    }

    private static byte[] oggPatchIdHeaderRate(byte[] ogg, long rate) {
        byte[] copy = ogg.clone();
        int packet = 27 + (copy[26] & 0xFF);
        System.arraycopy(le32(rate), 0, copy, packet + 12, 4);
        OggPages.fixCrc(copy, 0);
        return copy;
    }

    /** The first page as is, then a page whose segment table claims 255 segments of 255 bytes. */
    private static byte[] oggHugeSecondPage(byte[] ogg) {
        int first = OggPages.length(ogg, 0);
        byte[] header = Arrays.copyOfRange(ogg, first, first + 27);
        header[26] = (byte) 255;
        byte[] lacing = filled(255, (byte) 255);
        return concat(Arrays.copyOf(ogg, first), header, lacing, random(5, 4000));
    }

    private static byte[] oggOpus() {
        byte[] head = concat(ascii("OpusHead"), new byte[] {1, 1, 0x38, 1}, le32(48000), new byte[3]);
        byte[] page = concat(ascii("OggS"), new byte[] {0, 2}, new byte[8], le32(1), le32(0), new byte[4],
                new byte[] {1, (byte) head.length}, head);
        OggPages.fixCrc(page, 0);
        return page;
    }
}
