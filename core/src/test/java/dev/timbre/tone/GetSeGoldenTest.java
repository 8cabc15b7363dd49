package dev.timbre.tone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.audio.AudioLimits;
import dev.timbre.audio.OriginalAudio;
import dev.timbre.vad.SpeechDetector;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The get-se chain against goldens made by OpenVoice's real {@code se_extractor.get_se(path, converter, vad=True)}
 * ({@code infra/model/make_get_se_fixtures.py}: real whisper-timestamped, Silero v6.2, ffmpeg, pydub, resampy).
 *
 * <p>Here the chain starts from the speech segments OpenVoice's VAD found (the goldens' {@code segments_s}), so
 * it checks everything after the VAD: pydub's millisecond slicing and joining, the split into parts, librosa's
 * read-back (mono, resampy), extract_se per part and the mean; the VAD's own segments are checked against the
 * same goldens by the VAD's tests (the whole chain, VAD included, once
 * the decoder's {@code loadOriginal}, {@code FfmpegMono16k} and the detector are merged).
 */
class GetSeGoldenTest {
    static final Path DIR = Path.of("../infra/model/fixtures/get_se");
    static final Path CONVERTER = Path.of("../infra/model/fixtures/converter");
    /** The bound; measured max abs diff is printed by the test. */
    static final double TOLERANCE = 1e-3;

    private static ToneColorExtractor extractor;
    private static JsonNode goldens;

    @BeforeAll
    static void load() throws IOException {
        extractor = ToneColorExtractor.load(CONVERTER, AudioLimits.DEFAULT, null); // extract-se only
        goldens = new ObjectMapper().readTree(DIR.resolve("goldens.json").toFile());
    }

    @AfterAll
    static void close() {
        extractor.close();
    }

    @Test
    void chainAfterTheVadMatchesOpenVoice() throws IOException {
        double worst = 0;
        int embedded = 0;
        int refused = 0;
        StringBuilder report = new StringBuilder();
        for (JsonNode clip : goldens.get("clips")) {
            String file = clip.get("file").asText();
            OriginalAudio original = readPcm16(Files.readAllBytes(DIR.resolve(file)));
            assertEquals(clip.get("rate").asInt(), original.sampleRate(), file);
            assertEquals(clip.get("channels").asInt(), original.channels(), file);
            List<double[]> segments = new ArrayList<>();
            for (JsonNode s : clip.get("segments_s")) {
                segments.add(new double[] {s.get(0).asDouble(), s.get(1).asDouble()});
            }
            double keptSeconds = clip.get("kept_s").asDouble();
            if (clip.has("error")) {
                TooLittleSpeechException e = assertThrows(TooLittleSpeechException.class,
                        () -> extractor.getSeChain().extract(original, segments), file);
                assertEquals(new TooLittleSpeechException(keptSeconds).getMessage(), e.getMessage(), file);
                refused++;
                continue;
            }
            Extraction extraction = extractor.getSeChain().extract(original, segments);
            assertEquals(SeMode.GET_SE, extraction.mode(), file);
            SpeechSummary speech = extraction.speech().orElseThrow();
            assertEquals(keptSeconds, speech.keptSeconds(), 1e-9, file);
            JsonNode splits = clip.get("splits_s");
            assertEquals(splits.size(), speech.splitSeconds().size(), file + " parts");
            for (int i = 0; i < splits.size(); i++) {
                assertEquals(splits.get(i).asDouble(), speech.splitSeconds().get(i), 1e-9, file + " part " + i);
            }
            double diff = maxAbsDiff(floats(clip.get("embedding")), extraction.embedding());
            worst = Math.max(worst, diff);
            report.append(String.format(Locale.ROOT, "%s parts=%d kept=%.3f s max_abs_diff=%.3g%n", file,
                    splits.size(), keptSeconds, diff));
            assertTrue(diff <= TOLERANCE, file + ": max abs diff " + diff + "\n" + report);
            embedded++;
        }
        System.out.print(report);
        System.out.printf(Locale.ROOT, "get-se after VAD: worst max abs diff %.3g over %d clips%n", worst, embedded);
        assertTrue(embedded >= 6 && refused == 1, embedded + " embedded, " + refused + " refused");
    }

    @Test
    void tooLittleSpeechIsRefusedBeforeAnyEmbedding() {
        PydubAudio audio = PydubAudio.of(new OriginalAudio(new float[16000 * 20], 16000, 1,
                OriginalAudio.SampleFormat.S16));
        // 4.9 s kept: round(0.49) = 0 parts; 5.1 s: one part
        assertThrows(TooLittleSpeechException.class,
                () -> OpenVoiceGetSe.split(audio, List.of(new double[] {1.0, 5.9})));
        assertEquals(1, OpenVoiceGetSe.split(audio, List.of(new double[] {1.0, 6.1})).parts().size());
        // 15 s: np.round(1.5) = 2; 25 s: np.round(2.5) = 2 (half to even)
        assertEquals(2, OpenVoiceGetSe.split(PydubAudio.of(new OriginalAudio(new float[16000 * 30], 16000, 1,
                OriginalAudio.SampleFormat.S16)), List.of(new double[] {0, 25.0})).parts().size());
    }

    /**
     * {@code extract(bytes, GET_SE)}: one detector per thread from the factory, handed FFmpeg's 16 kHz conversion,
     * closed with the extractor. The detector here answers with OpenVoice's segments, so the embedding must match.
     */
    @Test
    void extractorRunsGetSeWithADetectorPerThread() throws IOException {
        JsonNode clip = null;
        for (JsonNode c : goldens.get("clips")) {
            if (c.get("file").asText().startsWith("g05_")) {
                clip = c;
            }
        }
        JsonNode g05 = clip;
        List<double[]> segments = new ArrayList<>();
        for (JsonNode s : g05.get("segments_s")) {
            segments.add(new double[] {s.get(0).asDouble(), s.get(1).asDouble()});
        }
        List<FixedDetector> opened = new ArrayList<>();
        byte[] wav = Files.readAllBytes(DIR.resolve(g05.get("file").asText()));
        try (ToneColorExtractor getSe = ToneColorExtractor.load(CONVERTER, AudioLimits.DEFAULT, () -> {
            FixedDetector d = new FixedDetector(segments);
            opened.add(d);
            return d;
        })) {
            Extraction first = getSe.extract(wav, SeMode.GET_SE);
            Extraction second = getSe.extract(wav, SeMode.GET_SE);
            assertEquals(1, opened.size(), "one detector for this thread");
            FixedDetector detector = opened.get(0);
            assertEquals(2, detector.calls);
            // the VAD's input is the 16 kHz conversion, as long as FFmpeg's (its values are an approximation at
            // other rates than 16 kHz: docs/architecture.md §10; the16kHzClipsReachTheVadBitForBit checks the rest)
            assertEquals(g05.get("pcm16k_samples").asLong(), detector.lastLength);
            assertTrue(maxAbsDiff(floats(g05.get("embedding")), first.embedding()) <= TOLERANCE);
            assertTrue(maxAbsDiff(first.embedding(), second.embedding()) == 0.0);
            assertEquals(SeMode.EXTRACT_SE, getSe.extract(wav, SeMode.EXTRACT_SE).mode());
            assertTrue(!detector.closed);
        }
        assertTrue(opened.get(0).closed, "closed with the extractor");
    }

    @Test
    void getSeWithoutADetectorFactoryIsRefused() throws IOException {
        byte[] wav = Files.readAllBytes(DIR.resolve("g05_speech_22050.wav"));
        IllegalStateException e = assertThrows(IllegalStateException.class,
                () -> extractor.extract(wav, SeMode.GET_SE));
        assertTrue(e.getMessage().contains("speech detector"), e.getMessage());
    }

    /** Recordings already at 16 kHz reach the VAD exactly as {@code ffmpeg -ac 1 -ar 16000 -f s16le} writes them. */
    @Test
    void the16kHzClipsReachTheVadBitForBit() throws Exception {
        int checked = 0;
        for (JsonNode clip : goldens.get("clips")) {
            if (clip.get("rate").asInt() != 16_000) {
                continue;
            }
            byte[] wav = Files.readAllBytes(DIR.resolve(clip.get("file").asText()));
            short[] pcm = dev.timbre.audio.FfmpegMono16k.convert(
                    new dev.timbre.audio.AudioLoader(AudioLimits.DEFAULT).loadOriginal(wav));
            java.nio.ByteBuffer bytes = java.nio.ByteBuffer.allocate(pcm.length * 2)
                    .order(java.nio.ByteOrder.LITTLE_ENDIAN);
            bytes.asShortBuffer().put(pcm);
            String sha = java.util.HexFormat.of().formatHex(
                    java.security.MessageDigest.getInstance("SHA-256").digest(bytes.array()));
            assertEquals(clip.get("pcm16k_samples").asLong(), pcm.length, clip.get("file").asText());
            assertEquals(clip.get("pcm16k_sha256").asText(), sha, clip.get("file").asText());
            checked++;
        }
        assertTrue(checked >= 2, "the goldens have 16 kHz clips");
    }

    private static final class FixedDetector implements SpeechDetector {
        private final List<double[]> segments;
        int calls;
        long lastLength;
        String lastSha256;
        boolean closed;

        FixedDetector(List<double[]> segments) {
            this.segments = segments;
        }

        @Override
        public List<double[]> speechSegments(short[] pcm16k) {
            calls++;
            lastLength = pcm16k.length;
            ByteBuffer bytes = ByteBuffer.allocate(2 * pcm16k.length).order(ByteOrder.LITTLE_ENDIAN);
            bytes.asShortBuffer().put(pcm16k);
            try {
                lastSha256 = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes.array()));
            } catch (NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
            return segments;
        }

        @Override
        public void close() {
            closed = true;
        }
    }

    /** 16-bit PCM WAV (the fixtures' only layout) as OriginalAudio: k / 32768, interleaved. */
    static OriginalAudio readPcm16(byte[] wav) {
        ByteBuffer b = ByteBuffer.wrap(wav).order(ByteOrder.LITTLE_ENDIAN);
        int pos = 12;
        int channels = 0;
        int rate = 0;
        while (pos + 8 <= wav.length) {
            int id = b.getInt(pos);
            int size = b.getInt(pos + 4);
            if (id == 0x20746d66) { // "fmt "
                assertEquals(16, b.getShort(pos + 22), "bits per sample");
                channels = b.getShort(pos + 10);
                rate = b.getInt(pos + 12);
            } else if (id == 0x61746164) { // "data"
                int n = Math.min(size, wav.length - pos - 8) / 2;
                float[] samples = new float[n];
                for (int i = 0; i < n; i++) {
                    samples[i] = b.getShort(pos + 8 + 2 * i) / 32768f;
                }
                return new OriginalAudio(samples, rate, channels, OriginalAudio.SampleFormat.S16);
            }
            pos += 8 + size + (size & 1);
        }
        throw new IllegalArgumentException("no data chunk");
    }

    static float[] floats(JsonNode array) {
        float[] out = new float[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = (float) array.get(i).asDouble();
        }
        return out;
    }

    static double maxAbsDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double max = 0;
        for (int i = 0; i < a.length; i++) {
            max = Math.max(max, Math.abs(a[i] - b[i]));
        }
        return max;
    }
}
