package dev.timbre.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Lambda cost per 1000 jobs by memory size, not a test; run {@code bench/cost.sh} after
 * {@code bench/efficiency.sh} and {@code bench/memory.sh}, whose measured figures it reads from their sections of
 * {@code docs/benchmarks.md}: extraction time per clip at 1 thread, and the peak RSS of a 1-thread worker plus the
 * peak per added thread. Memory size → vCPUs (Lambda: one vCPU per 1,769 MB, at most 6) → worker threads (the
 * cheapest count that fits in memory, at most the batch size) → wall time per batch of 10 → cost.
 *
 * <p>Options: {@code [--docs FILE] [--overhead-ms 10] [--wait-ms 60] [--command TEXT]}.
 */
public final class CostModel {
    /** AWS Lambda, x86, us-east-1 (aws.amazon.com/lambda/pricing): per GB-second and per request. */
    static final double PRICE_GB_SECOND = 0.0000166667;
    static final double PRICE_REQUEST = 0.20 / 1_000_000;
    /** "At 1,769 MB, a function has the equivalent of one vCPU" (Lambda developer guide, memory configuration). */
    static final double MB_PER_VCPU = 1769;
    static final double MAX_VCPUS = 6;
    static final int BATCH = 10;
    /** Share of the function's memory the worker's RSS may use (the rest: runtime client, page cache, spikes). */
    static final double RSS_SHARE = 0.85;
    static final int[] SIZES = {512, 768, 1024, 1536, 1769, 2048, 3008, 3538, 4096, 5307, 7076, 8192, 10240};
    private static final Pattern PER_CLIP = Pattern.compile("<!-- extraction-ms-1-thread ((?:\\d+=[\\d.]+ ?)+) -->");
    private static final Pattern MEMORY = Pattern.compile(
            "<!-- memory-mib first-peak=(\\d+) per-thread-peak=([\\d.]+) -->");

    private CostModel() {
    }

    record Choice(int memoryMb, double vcpus, int threads, double batchSeconds, double costPer1000) {
    }

    public static void main(String[] argv) throws Exception {
        Map<String, String> args = BenchDocs.parse(argv);
        Path docs = Path.of(args.getOrDefault("docs", "docs/benchmarks.md"));
        double overheadMs = Double.parseDouble(args.getOrDefault("overhead-ms", "10"));
        double waitMs = Double.parseDouble(args.getOrDefault("wait-ms", "60"));
        String text = Files.readString(docs, StandardCharsets.UTF_8);
        Matcher clips = PER_CLIP.matcher(text);
        Matcher memory = MEMORY.matcher(text);
        if (!clips.find() || !memory.find()) {
            throw new IllegalStateException("run bench/efficiency.sh and bench/memory.sh first: their measured figures"
                    + " are missing from " + docs);
        }
        Map<Integer, Double> extractionMs = new TreeMap<>();
        for (String kv : clips.group(1).trim().split(" ")) {
            String[] p = kv.split("=");
            extractionMs.put(Integer.parseInt(p[0]), Double.parseDouble(p[1]));
        }
        double baseMib = Double.parseDouble(memory.group(1));
        double perThreadMib = Double.parseDouble(memory.group(2));

        StringBuilder s = new StringBuilder(BenchDocs.begin("cost")).append('\n');
        s.append("## Lambda cost per 1000 jobs by memory size\n\n");
        s.append(BenchDocs.f("Inputs measured in this run: extraction time per job at 1 thread (efficiency section, medians:"
                + " %s), a 1-thread worker's peak RSS %.0f MiB and %.1f MiB per added thread (memory section)."
                + " Assumed, not measured here: %.0f ms of CPU per job besides extraction (decode, resample, JSON, SDK"
                + " calls) and %.0f ms per job waiting on S3, Postgres and Qdrant in the same region. Lambda: one vCPU"
                + " per %.0f MB, at most %.0f; $%.10f per GB-s and $%.2f per million requests (x86, us-east-1);"
                + " SQS batches of %d jobs per invocation.%n%n", extractionMs.toString().replaceAll("[{}]", "")
                        .replace("=", " s: ").replace(",", " ms,") + " ms", baseMib, perThreadMib, overheadMs,
                waitMs, MB_PER_VCPU, MAX_VCPUS, PRICE_GB_SECOND, PRICE_REQUEST * 1e6, BATCH));
        s.append("For each memory size M: vCPUs v = min(").append((int) MAX_VCPUS).append(", M ÷ ")
                .append((int) MB_PER_VCPU).append("); threads T from 1 up to what fits (peak RSS ≤ ")
                .append((int) (RSS_SHARE * 100)).append(" % of M) and at most ").append(BATCH)
                .append("; a batch runs in ⌈").append(BATCH).append(" ÷ T⌉ waves, each taking c · max(1, T ÷ v) + w")
                .append(" (c = CPU per job, shared when threads outnumber vCPUs; w = wait); cost per 1000 jobs =")
                .append(" 1000 ÷ ").append(BATCH).append(" batches × (batch seconds × M ÷ 1024 × GB-s price +")
                .append(" request price). The T shown is the cheapest for that M.\n\n");
        s.append("| memory MB | vCPUs |");
        for (int clip : extractionMs.keySet()) {
            s.append(' ').append(clip).append(" s: threads, batch s, $ per 1000 |");
        }
        s.append("\n|---:|---:|");
        extractionMs.keySet().forEach(c -> s.append("---|"));
        s.append('\n');
        Map<Integer, Choice> cheapest = new TreeMap<>();
        for (int m : SIZES) {
            s.append(BenchDocs.f("| %d | %.2f |", m, Math.min(MAX_VCPUS, m / MB_PER_VCPU)));
            for (Map.Entry<Integer, Double> clip : extractionMs.entrySet()) {
                Choice c = best(m, (clip.getValue() + overheadMs) / 1000, waitMs / 1000, baseMib, perThreadMib);
                if (c == null) {
                    s.append(" does not fit |");
                    continue;
                }
                s.append(BenchDocs.f(" %d, %.2f, $%.5f |", c.threads(), c.batchSeconds(), c.costPer1000()));
                Choice prev = cheapest.get(clip.getKey());
                if (prev == null || c.costPer1000() < prev.costPer1000() - 1e-12) {
                    cheapest.put(clip.getKey(), c);
                }
            }
            s.append('\n');
        }
        s.append("\nCheapest memory size per clip length, with the arithmetic:\n\n");
        for (Map.Entry<Integer, Choice> e : cheapest.entrySet()) {
            Choice c = e.getValue();
            double cpu = (extractionMs.get(e.getKey()) + overheadMs) / 1000;
            int waves = (BATCH + c.threads() - 1) / c.threads();
            s.append(BenchDocs.f("- **%d s clips: %d MB**, %d worker threads on %.2f vCPUs: c = %.3f s, a wave takes"
                            + " %.3f × max(1, %d ÷ %.2f) + %.3f = %.3f s, %d waves = %.2f s per batch; %d batches ×"
                            + " %.2f s × %.3f GB × $%.10f + %d × $%.7f = **$%.5f per 1000 jobs**.%n", e.getKey(),
                    c.memoryMb(), c.threads(), c.vcpus(), cpu, cpu, c.threads(), c.vcpus(), waitMs / 1000,
                    c.batchSeconds() / waves, waves, c.batchSeconds(), 1000 / BATCH, c.batchSeconds(),
                    c.memoryMb() / 1024.0, PRICE_GB_SECOND, 1000 / BATCH, PRICE_REQUEST, c.costPer1000()));
        }
        s.append("\nBelow one vCPU the price per CPU-second is the same at every size (both scale with M), so what")
                .append(" decides is memory that sits idle: the engine's fixed ~200 MiB, and waits not overlapped by")
                .append(" other threads. Larger sizes cost about the same per job once enough threads hide the waits,")
                .append(" and finish a batch sooner (lower latency, fewer concurrent instances).\n");
        s.append("\n- Command: `").append(args.getOrDefault("command", "bench/cost.sh")).append("`\n");
        s.append(BenchDocs.end("cost")).append('\n');
        BenchDocs.writeSection(docs, "cost", s.toString(), false);
        System.out.print(s);
    }

    /** The cheapest thread count for memory size m, or null when even one thread does not fit. */
    static Choice best(int m, double cpuSeconds, double waitSeconds, double baseMib, double perThreadMib) {
        double v = Math.min(MAX_VCPUS, m / MB_PER_VCPU);
        double mib = m * 1e6 / 1048576.0; // Lambda's MB are megabytes
        Choice best = null;
        for (int t = 1; t <= BATCH; t++) {
            if (baseMib + (t - 1) * perThreadMib > RSS_SHARE * mib) {
                break;
            }
            int waves = (BATCH + t - 1) / t;
            double wave = cpuSeconds * Math.max(1, t / v) + waitSeconds;
            double batch = waves * wave;
            double cost = 1000.0 / BATCH * (batch * m / 1024.0 * PRICE_GB_SECOND + PRICE_REQUEST);
            if (best == null || cost < best.costPer1000() - 1e-12) {
                best = new Choice(m, v, t, batch, cost);
            }
        }
        return best;
    }
}
