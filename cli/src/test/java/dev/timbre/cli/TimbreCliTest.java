package dev.timbre.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The command line as scripts see it: JSON on stdout, one line on stderr, stable exit codes. */
class TimbreCliTest {

    private static final Path FIXTURES = Path.of(System.getProperty("user.dir")).resolve("../infra/model/fixtures")
            .normalize();
    private static final Path CONVERTER = FIXTURES.resolve("converter");
    private static final ObjectMapper JSON = new ObjectMapper();

    record Run(int exit, String out, String err) {
    }

    static Run run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int exit = TimbreCli.execute(new PrintWriter(out, true), new PrintWriter(err, true), args);
        return new Run(exit, out.toString(), err.toString());
    }

    @Nested
    class Extract {

        @Test
        void printsOneJsonLinePerFileWithTheGoldenEmbedding() throws Exception {
            JsonNode goldens = JSON.readTree(FIXTURES.resolve("goldens.json").toFile());
            JsonNode clip = goldens.get("clips").get(1);
            Path file = FIXTURES.resolve(clip.get("file").asText());

            Run r = run("extract", "--mode", "extract-se", "--converter", CONVERTER.toString(), file.toString(), file.toString());

            assertEquals(0, r.exit(), r.err());
            String[] lines = r.out().strip().split("\n");
            assertEquals(2, lines.length, "one line per file");
            JsonNode line = JSON.readTree(lines[0]);
            assertEquals(file.toString(), line.get("file").asText());
            assertEquals(clip.get("sample_rate_in").asInt(), line.get("sample_rate_in").asInt());
            assertEquals(256, line.get("embedding").size());
            double maxDiff = 0;
            for (int i = 0; i < 256; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(line.get("embedding").get(i).asDouble()
                        - clip.get("embedding").get(i).asDouble()));
            }
            assertTrue(maxDiff <= 1e-4, "matches the golden embedding, max diff " + maxDiff);
        }

        @Test
        void meanPrintsOneLineWithTheMeanOfTheFiles() throws Exception {
            JsonNode mean = JSON.readTree(FIXTURES.resolve("goldens.json").toFile()).get("mean");
            String[] args = new String[4 + mean.get("files").size()];
            args[0] = "extract";
            args[1] = "--converter=" + CONVERTER;
            args[2] = "--mean";
            args[3] = "--mode=extract-se"; // the goldens are extract_se of the whole clip
            for (int i = 0; i < mean.get("files").size(); i++) {
                args[4 + i] = FIXTURES.resolve(mean.get("files").get(i).asText()).toString();
            }

            Run r = run(args);

            assertEquals(0, r.exit(), r.err());
            JsonNode line = JSON.readTree(r.out().strip());
            double maxDiff = 0;
            for (int i = 0; i < 256; i++) {
                maxDiff = Math.max(maxDiff, Math.abs(line.get("embedding").get(i).asDouble()
                        - mean.get("embedding").get(i).asDouble()));
            }
            assertTrue(maxDiff <= 1e-4, "mean matches the golden mean, max diff " + maxDiff);
        }

        @Test
        void corruptAudioIsOneLineAndExitThreeWithNothingOnStdout(@TempDir Path tmp) throws Exception {
            Path bad = tmp.resolve("noise.wav");
            Files.write(bad, new byte[] {'R', 'I', 'F', 'F', 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12});
            Path good = FIXTURES.resolve("audio").resolve("voice_a_1.wav");

            Run r = run("extract", "--mode", "extract-se", "--converter", CONVERTER.toString(), good.toString(), bad.toString());

            assertEquals(ExitCodes.BAD_INPUT, r.exit());
            assertEquals("", r.out(), "no half answer on stdout");
            assertEquals(1, r.err().strip().lines().count(), "one line: " + r.err());
            assertTrue(r.err().startsWith("timbre extract: " + bad), r.err());
        }

        @Test
        void badCheckpointIsOneLineAndExitThree() {
            Run r = run("extract", "--mode", "extract-se", "--converter", FIXTURES.resolve("bad/missing_key").toString(),
                    FIXTURES.resolve("audio/voice_a_1.wav").toString());

            assertEquals(ExitCodes.BAD_INPUT, r.exit());
            assertEquals(1, r.err().strip().lines().count(), r.err());
            assertTrue(r.err().contains("ref_enc.gru.bias_hh_l0"), r.err());
        }

        @Test
        void missingFileIsBadInput() {
            Run r = run("extract", "--mode", "extract-se", "--converter", CONVERTER.toString(), "/nonexistent/x.wav");
            assertEquals(ExitCodes.BAD_INPUT, r.exit());
            assertTrue(r.err().contains("/nonexistent/x.wav: no such file"), r.err());
        }

        @Test
        void extractSeLinesNameTheirModeAndCarryNoSpeechSummary() throws Exception {
            Path file = FIXTURES.resolve("audio/voice_a_1.wav");

            Run r = run("extract", "--mode=extract-se", "--converter", CONVERTER.toString(), file.toString());

            assertEquals(0, r.exit(), r.err());
            JsonNode line = JSON.readTree(r.out().strip());
            assertEquals("extract-se", line.get("se_mode").asText());
            for (String getSeOnly : new String[] {"speech_segments_s", "kept_s", "split_s"}) {
                assertTrue(line.path(getSeOnly).isMissingNode(), getSeOnly + " in " + line);
            }
        }

        @Test
        void anUnknownModeIsAUsageErrorNamingTheAcceptedValues() {
            for (String mode : new String[] {"vad", "GET_SE", "get_se", ""}) {
                for (String[] args : new String[][] {
                    {"extract", "--mode", mode, "--converter", CONVERTER.toString(), "x.wav"},
                    {"submit", "--mode", mode, "x.wav", "--voice", "v"},
                    {"similar", "--mode", mode, "alice"}}) {
                    Run r = run(args);
                    assertEquals(ExitCodes.USAGE, r.exit(), String.join(" ", args) + ": " + r.err());
                    assertTrue(r.err().contains("--mode must be get-se or extract-se, was '" + mode + "'"),
                            r.err());
                    assertEquals("", r.out());
                }
            }
        }

        @Test
        void missingArgumentsAreAUsageError() {
            Run r = run("extract", "--mode", "extract-se", "--converter", CONVERTER.toString());
            assertEquals(ExitCodes.USAGE, r.exit());
        }
    }

    @Test
    void everyCommandHasHelp() {
        for (String command : new String[] {"demo", "extract", "worker", "submit", "status", "events", "similar", "reconcile", "migrate"}) {
            Run r = run(command, "--help");
            assertEquals(0, r.exit(), command + ": " + r.err());
            assertTrue(r.out().contains("Usage: timbre " + command), command + ": " + r.out());
        }
    }

    @Test
    void demoRejectsABatchLargerThanOneSqsReceiveBeforeStartingAnything() {
        Run r = run("demo", "--batch-size", "11");
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertEquals("timbre demo: --batch-size must be within 1..10 (one SQS receive), was 11", r.err().strip());
    }

    @Test
    void unknownCommandIsAUsageError() {
        assertEquals(ExitCodes.USAGE, run("frobnicate").exit());
    }

    @Test
    void statusRejectsANonUuid() {
        Run r = run("status", "not-a-uuid");
        assertEquals(ExitCodes.BAD_INPUT, r.exit());
        assertEquals("timbre status: not a job id (UUID): not-a-uuid", r.err().strip());
    }
}
