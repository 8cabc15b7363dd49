package dev.timbre.bench;

import dev.timbre.audio.AudioLimits;
import dev.timbre.audio.AudioLoader;
import dev.timbre.audio.FfmpegMono16k;
import dev.timbre.audio.OriginalAudio;
import dev.timbre.tone.SeMode;
import dev.timbre.tone.ToneColorExtractor;
import dev.timbre.vad.SileroSpeechDetector;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.function.Supplier;

/**
 * What each embedding mode costs, side by side in one JVM and one run: the CPU of one worker job (S3 GET, decode,
 * the job row's statements, the store's upsert, on the embedded servers, so their CPU is counted too) in get-se and
 * in extract-se, and, on the calling thread alone, the extraction in each mode and the VAD's part of get-se (the 16
 * kHz conversion and Silero). One speech clip, {@code infra/model/fixtures/get_se/g05_speech_22050.wav} (12.6 s,
 * 22.05 kHz) unless {@code --clip} says otherwise. Writes the {@code modes} section of docs/benchmarks.md.
 */
public final class ModeCostBenchmark {
    private static final String NAME = "modes";

    private ModeCostBenchmark() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> options = BenchDocs.parse(args);
        Path converter = Path.of(options.getOrDefault("converter", "infra/model/fixtures/converter"));
        Path clip = Path.of(options.getOrDefault("clip", "infra/model/fixtures/get_se/g05_speech_22050.wav"));
        int jobs = Integer.parseInt(options.getOrDefault("jobs", "20"));
        String command = options.getOrDefault("command", "bench/modes.sh");
        byte[] audio = Files.readAllBytes(clip);
        String loadBefore = BenchDocs.loadAverage();
        Instant started = Instant.now();

        double seconds;
        double extractSeMs;
        double getSeMs;
        double vadMs;
        WorkerThroughputBenchmark.Result workerExtractSe;
        WorkerThroughputBenchmark.Result workerGetSe;
        try (ToneColorExtractor extractor = ToneColorExtractor.load(converter, AudioLimits.DEFAULT)) {
            OriginalAudio original = new AudioLoader(AudioLimits.DEFAULT).loadOriginal(audio);
            seconds = original.durationSeconds();
            try (SileroSpeechDetector detector = SileroSpeechDetector.open()) {
                // interleaved rounds, so that a change in the machine's load falls on every figure alike
                double[] sums = new double[3];
                int rounds = jobs;
                for (int warm = 0; warm < 3; warm++) {
                    extractor.extract(audio, SeMode.EXTRACT_SE);
                    extractor.extract(audio, SeMode.GET_SE);
                    detector.speechSegments(FfmpegMono16k.convert(original));
                }
                for (int i = 0; i < rounds; i++) {
                    sums[0] += threadCpuMs(() -> extractor.extract(audio, SeMode.EXTRACT_SE));
                    sums[1] += threadCpuMs(() -> extractor.extract(audio, SeMode.GET_SE));
                    sums[2] += threadCpuMs(() -> detector.speechSegments(FfmpegMono16k.convert(original)));
                }
                extractSeMs = sums[0] / rounds;
                getSeMs = sums[1] / rounds;
                vadMs = sums[2] / rounds;
            }
            try (WorkerThroughputBenchmark.Servers servers =
                         new WorkerThroughputBenchmark.Servers(Duration.ZERO, extractor)) {
                workerExtractSe = servers.runSeed(audio, jobs, SeMode.EXTRACT_SE);
                workerGetSe = servers.runSeed(audio, jobs, SeMode.GET_SE);
            }
        }
        String loadAfter = BenchDocs.loadAverage();
        double workerExtractSeMs = 1000 * workerExtractSe.cpuSeconds() / jobs;
        double workerGetSeMs = 1000 * workerGetSe.cpuSeconds() / jobs;

        StringBuilder b = new StringBuilder();
        b.append(BenchDocs.begin(NAME)).append('\n');
        b.append("## Embedding modes: what get-se costs against extract-se\n\n");
        b.append(BenchDocs.f("One clip, `%s` (%.1f s of speech-like audio), %d jobs per mode, one job at a time. Worker "
                + "CPU per job is this JVM's CPU (worker and embedded servers together, as in the worker section); the "
                + "extraction and VAD rows are the calling thread's CPU, means of %d interleaved rounds.%n%n",
                clip.getFileName(), seconds, jobs, jobs));
        b.append("| what | extract-se ms CPU | get-se ms CPU | get-se / extract-se |\n|---|---:|---:|---:|\n");
        b.append(BenchDocs.f("| worker job (S3, decode, rows, store, extraction) | %.1f | %.1f | %.2f× |%n",
                workerExtractSeMs, workerGetSeMs, workerGetSeMs / workerExtractSeMs));
        b.append(BenchDocs.f("| extraction alone (`ToneColorExtractor.extract`) | %.1f | %.1f | %.2f× |%n",
                extractSeMs, getSeMs, getSeMs / extractSeMs));
        b.append(BenchDocs.f("| of which the VAD (16 kHz conversion + Silero) | – | %.1f | %.2f× of extract-se |%n%n",
                vadMs, vadMs / extractSeMs));
        b.append(BenchDocs.goalLine("VAD CPU vs the extraction's, same clip (issue goal ≤ 0.5×)",
                BenchDocs.f("%.2f×", vadMs / extractSeMs), "≤ 0.5×", vadMs / extractSeMs <= 0.5,
                "Silero runs per 512-sample window (recurrent state); the per-window ONNX Runtime call dominates"));
        b.append('\n');
        b.append(BenchDocs.f("- Machine: %d CPUs (%s), Java %s; load average %s before, %s after; %s%n",
                Runtime.getRuntime().availableProcessors(), BenchmarkReport.cpuModel(),
                System.getProperty("java.version"), loadBefore, loadAfter, started));
        b.append("- Command: `").append(command).append("`\n");
        b.append(BenchDocs.end(NAME)).append('\n');
        System.out.println(b);
        if (options.containsKey("docs")) {
            BenchDocs.writeSection(Path.of(options.get("docs")), NAME, b.toString(), false);
        }
    }

    private static double threadCpuMs(Supplier<?> work) {
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        long t0 = threads.getCurrentThreadCpuTime();
        Object result = work.get();
        if (result == null) {
            throw new IllegalStateException("nothing measured");
        }
        return (threads.getCurrentThreadCpuTime() - t0) / 1e6;
    }
}
