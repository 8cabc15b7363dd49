package dev.timbre.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.timbre.audio.AudioLimits;
import dev.timbre.config.TimbreConfig;
import dev.timbre.tone.Extraction;
import dev.timbre.tone.SeMode;
import dev.timbre.tone.ToneColorExtractor;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code timbre extract --converter DIR FILE...}: one JSON line per file, or with {@code --mean} one line with
 * the arithmetic mean over all files (OpenVoice {@code extract_se} of a list). All files are read and checked
 * before any line is printed, so a bad file never leaves half an answer on stdout.
 */
@Command(name = "extract",
        mixinStandardHelpOptions = true,
        description = {"Print the OpenVoice tone-color embedding of each audio file as a JSON line.",
                "Formats: WAV (PCM 8/16/24/32, float 32/64, extensible), FLAC, MP3, Ogg Vorbis."},
        exitCodeListHeading = "%nExit codes:%n",
        exitCodeList = {"0:success", "2:usage error", "3:bad input (audio, checkpoint), one line on stderr",
                "1:unexpected failure"})
final class ExtractCommand implements Callable<Integer> {

    @Spec
    CommandSpec spec;

    @Mixin
    VerboseOption verbosity;

    @Option(names = "--converter", required = true, paramLabel = "DIR",
            description = "OpenVoice converter directory (config.json + checkpoint.pth).")
    Path converterDir;

    @Option(names = "--mean", description = "Print one line with the mean embedding over all files.")
    boolean mean;

    @Option(names = "--max-bytes", paramLabel = "N", description = "Largest accepted file (default: ${DEFAULT-VALUE}).")
    long maxBytes = AudioLimits.DEFAULT.maxBytes();

    @Option(names = "--max-seconds", paramLabel = "S", description = "Longest accepted recording (default: ${DEFAULT-VALUE}).")
    double maxSeconds = AudioLimits.DEFAULT.maxSeconds();

    @Option(names = "--mode", paramLabel = "MODE", converter = SeModeConverter.class,
            description = "get-se (OpenVoice's get_se: VAD, ~10 s parts, mean) or extract-se (the whole clip); "
                    + "default: TIMBRE_SE_MODE, else get-se.")
    SeMode mode;

    @Parameters(arity = "1..*", paramLabel = "FILE", description = "Audio files.")
    List<Path> files;

    private static final ObjectMapper JSON = new ObjectMapper();

    @Override
    public Integer call() throws IOException {
        AudioLimits limits = new AudioLimits(maxBytes, maxSeconds);
        SeMode seMode = mode != null ? mode : TimbreConfig.seModeFromEnv(System.getenv());
        List<Map<String, Object>> lines = new ArrayList<>();
        List<float[]> embeddings = new ArrayList<>();
        try (ToneColorExtractor extractor = ToneColorExtractor.load(converterDir, limits)) {
            for (Path file : files) {
                Extraction x = extract(extractor, file, limits, seMode);
                embeddings.add(x.embedding());
                Map<String, Object> line = new LinkedHashMap<>();
                line.put("file", file.toString());
                line.put("duration_s", x.durationSeconds());
                line.put("sample_rate_in", x.sampleRateIn());
                line.put("se_mode", x.mode().id());
                x.speech().ifPresent(speech -> {
                    line.put("speech_segments_s", speech.segmentsSeconds());
                    line.put("kept_s", speech.keptSeconds());
                    line.put("split_s", speech.splitSeconds());
                });
                line.put("embedding", x.embedding());
                lines.add(line);
            }
        }
        PrintWriter out = spec.commandLine().getOut();
        if (mean) {
            Map<String, Object> line = new LinkedHashMap<>();
            line.put("files", files.stream().map(Path::toString).toList());
            line.put("se_mode", seMode.id());
            line.put("embedding", ToneColorExtractor.mean(embeddings));
            out.println(JSON.writeValueAsString(line));
        } else {
            for (Map<String, Object> line : lines) {
                out.println(JSON.writeValueAsString(line));
            }
        }
        out.flush();
        return ExitCodes.OK;
    }

    private static Extraction extract(ToneColorExtractor extractor, Path file, AudioLimits limits, SeMode mode)
            throws IOException {
        if (!Files.isRegularFile(file)) {
            throw new BadInputException(file + ": no such file");
        }
        long size = Files.size(file);
        if (size > limits.maxBytes()) {
            // Checked before reading so a huge file is never loaded into memory.
            throw new BadInputException(file + ": audio too large: " + size + " bytes exceeds the limit of "
                    + limits.maxBytes() + " bytes");
        }
        try {
            // Too little speech (get-se) is an InvalidAudioException: BAD_INPUT, exit code 3, its one line
            return extractor.extract(Files.readAllBytes(file), mode);
        } catch (RuntimeException e) {
            if (OneLineErrors.isBadInput(e)) {
                throw new BadInputException(file + ": " + e.getMessage());
            }
            throw e;
        }
    }

}
