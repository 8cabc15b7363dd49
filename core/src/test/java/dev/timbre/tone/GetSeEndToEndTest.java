package dev.timbre.tone;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.audio.AudioLimits;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The whole get-se path as a worker runs it (decode, 16 kHz conversion, Silero VAD, pydub slicing, extract_se per
 * part, mean) against what OpenVoice's own {@code get_se(vad=True)} stored for the same clips
 * (infra/model/make_get_se_fixtures.py). The bar: the same segment count on every clip, every boundary
 * within 2 ms on all clips but at most one, embeddings within 1e-3 where the boundaries are equal, and the short
 * clip refused with the too-little-speech message. The measured figures are printed.
 */
class GetSeEndToEndTest {
    private static final Path DIR = GetSeGoldenTest.DIR;
    private static final double BOUNDARY_S = 0.002;
    private static ToneColorExtractor extractor;
    private static JsonNode goldens;

    @BeforeAll
    static void load() throws IOException {
        extractor = ToneColorExtractor.load(GetSeGoldenTest.CONVERTER, AudioLimits.DEFAULT);
        goldens = new ObjectMapper().readTree(DIR.resolve("goldens.json").toFile());
    }

    @AfterAll
    static void close() {
        extractor.close();
    }

    @Test
    void getSeMatchesOpenVoiceOnItsOwnClips() throws IOException {
        int clipsWithABoundaryOff = 0;
        StringBuilder report = new StringBuilder();
        for (JsonNode clip : goldens.get("clips")) {
            String file = clip.get("file").asText();
            byte[] wav = Files.readAllBytes(DIR.resolve(file));
            if (clip.has("error")) {
                TooLittleSpeechException e = assertThrows(TooLittleSpeechException.class,
                        () -> extractor.extract(wav, SeMode.GET_SE), file);
                assertTrue(e.getMessage().startsWith("too little speech: "), e.getMessage());
                report.append(String.format(Locale.ROOT, "%s: refused (%s)%n", file, e.getMessage()));
                continue;
            }
            Extraction got = extractor.extract(wav, SeMode.GET_SE);
            assertEquals(SeMode.GET_SE, got.mode(), file);
            List<double[]> segments = got.speech().orElseThrow().segmentsSeconds();
            JsonNode expected = clip.get("segments_s");
            assertEquals(expected.size(), segments.size(), file + ": segment count");
            double worstBoundary = 0;
            for (int i = 0; i < segments.size(); i++) {
                for (int j = 0; j < 2; j++) {
                    worstBoundary = Math.max(worstBoundary,
                            Math.abs(segments.get(i)[j] - expected.get(i).get(j).asDouble()));
                }
            }
            double worstEmbedding = 0;
            for (int k = 0; k < 256; k++) {
                worstEmbedding = Math.max(worstEmbedding,
                        Math.abs(got.embedding()[k] - clip.get("embedding").get(k).asDouble()));
            }
            boolean boundariesEqual = worstBoundary <= BOUNDARY_S;
            if (boundariesEqual) {
                assertTrue(worstEmbedding <= 1e-3, file + ": embedding off by " + worstEmbedding);
            } else {
                clipsWithABoundaryOff++;
            }
            report.append(String.format(Locale.ROOT, "%s: %d segments, worst boundary %.4f s, max abs %.2e%n",
                    file, segments.size(), worstBoundary, worstEmbedding));
        }
        System.out.print("get-se vs OpenVoice:\n" + report);
        assertTrue(clipsWithABoundaryOff <= 1, clipsWithABoundaryOff + " clips with a boundary off:\n" + report);
    }
}
