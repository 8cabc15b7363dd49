package dev.timbre.bench;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import java.io.IOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.elasticmq.rest.sqs.SQSRestServer;
import org.elasticmq.rest.sqs.SQSRestServerBuilder;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.sqs.SqsClient;
import software.amazon.awssdk.services.sqs.model.Message;
import software.amazon.awssdk.services.sqs.model.QueueAttributeName;

/**
 * RabbitMQ → ElasticMQ throughput of the bridge and of two Camel routes, in one run, on one machine.
 *
 * <p>For each subject: a fresh durable quorum queue is filled with N job messages (~1 KB JSON, persistent,
 * confirmed), the subject starts as its own JVM (same heap limit), and the clock runs from the first message seen
 * in SQS to the N-th. Then the subject gets SIGTERM, the SQS queue is read back and every job id counted: lost =
 * published ids never seen, duplicates = extra copies. CPU time comes from /proc, peak RSS from VmHWM, peak heap
 * from the GC log. The table replaces the section between the bridge markers of docs/benchmarks.md.
 *
 * <p>Arguments: {@code messages bridgeClassPath camelClassPath docsFile command}.
 */
public final class BridgeBenchmark {

    private static final Pattern JOB_ID = Pattern.compile("\"job_id\":\"([^\"]+)\"");
    private static final Pattern GC_HEAP = Pattern.compile("(\\d+)M->(\\d+)M\\((\\d+)M\\)");
    private static final String HEAP = "-Xmx512m";

    record Result(String subject, int round, int published, double msgsPerSec, double wallSeconds, int distinct, int lost,
                  int duplicates, int leftInRabbit, double cpuSeconds, long peakRssMb, long peakHeapMb) {
    }

    public static void main(String[] args) throws Exception {
        int n = Integer.parseInt(args[0]);
        String bridgeCp = args[1];
        String camelCp = args[2];
        Path docs = Path.of(args[3]);
        String command = args[4];

        SQSRestServer server = SQSRestServerBuilder.withInterface("127.0.0.1").withDynamicPort().start();
        int sqsPort = server.waitUntilStarted().localAddress().getPort();
        URI endpoint = URI.create("http://127.0.0.1:" + sqsPort);
        SqsClient sqs = SqsClient.builder().endpointOverride(endpoint).region(Region.US_EAST_1)
                .credentialsProvider(StaticCredentialsProvider.create(AwsBasicCredentials.create("b", "b"))).build();
        String loadAverage = Files.readString(Path.of("/proc/loadavg")).trim().split(" ")[0];
        warmUp(sqs);
        ConnectionFactory f = new ConnectionFactory();
        f.setHost("127.0.0.1");
        List<Result> results = new ArrayList<>();
        String rabbitVersion;
        try (Connection rabbit = f.newConnection("bench")) {
            rabbitVersion = String.valueOf(rabbit.getServerProperties().get("version"));
            List<String> subjects = List.of(System.getenv().getOrDefault("BENCH_SUBJECTS",
                    "bridge,camel-default,camel-batch").split(","));
            int rounds = Integer.parseInt(System.getenv().getOrDefault("BENCH_ROUNDS", "2"));
            // The machine is shared: alternate the order between rounds so a load trend does not favour one subject.
            for (int round = 1; round <= rounds; round++) {
                List<String> order = new ArrayList<>(subjects);
                if (round % 2 == 0) {
                    java.util.Collections.reverse(order);
                }
                for (String subject : order) {
                    results.add(run(subject, round, n, rabbit, sqs, endpoint, bridgeCp, camelCp));
                    System.out.println(results.get(results.size() - 1));
                }
            }
        } finally {
            sqs.close();
            server.stopAndWait();
        }
        writeSection(docs, render(results, n, rabbitVersion, command, loadAverage));
    }

    private static Result run(String subject, int round, int n, Connection rabbit, SqsClient sqs, URI endpoint, String bridgeCp,
                              String camelCp) throws Exception {
        String queue = "bench-" + subject + "-" + UUID.randomUUID().toString().substring(0, 8);
        Set<String> published = new HashSet<>();
        try (Channel ch = rabbit.createChannel()) {
            ch.queueDeclare(queue, true, false, false, Map.of("x-queue-type", "quorum"));
            ch.confirmSelect();
            for (int i = 0; i < n; i++) {
                String jobId = UUID.randomUUID().toString();
                published.add(jobId);
                AMQP.BasicProperties props = new AMQP.BasicProperties.Builder().messageId(jobId)
                        .contentType("application/json").deliveryMode(2).timestamp(new java.util.Date())
                        .headers(Map.of("voice_id", "voice-" + (i % 50))).build();
                ch.basicPublish("", queue, props, jobBody(jobId, i).getBytes(StandardCharsets.UTF_8));
                if (i % 1000 == 999) {
                    ch.waitForConfirmsOrDie(60_000);
                }
            }
            ch.waitForConfirmsOrDie(60_000);
        }
        Map<QueueAttributeName, String> attrs = new HashMap<>();
        attrs.put(QueueAttributeName.MAXIMUM_MESSAGE_SIZE, "1048576");
        attrs.put(QueueAttributeName.VISIBILITY_TIMEOUT, "3600");
        String sqsQueue = queue;
        String queueUrl = sqs.createQueue(b -> b.queueName(sqsQueue).attributes(attrs)).queueUrl();

        int metricsPort;
        try (java.net.ServerSocket free = new java.net.ServerSocket(0)) {
            metricsPort = free.getLocalPort();
        }
        Path gcLog = Files.createTempFile("bench-gc-" + subject, ".log");
        Path outLog = Files.createTempFile("bench-" + subject, ".log");
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                HEAP, "-Xlog:gc:file=" + gcLog));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        if (subject.equals("bridge")) {
            cmd.addAll(List.of("-cp", bridgeCp, "dev.timbre.bridge.BridgeMain"));
            pb.environment().put("TIMBRE_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/%2f");
            pb.environment().put("TIMBRE_AMQP_QUEUE", queue);
            pb.environment().put("TIMBRE_QUEUE_URL", queueUrl);
            pb.environment().put("AWS_ENDPOINT_URL_SQS", endpoint.toString());
            pb.environment().put("TIMBRE_BRIDGE_HTTP_PORT", Integer.toString(metricsPort));
        } else {
            cmd.addAll(List.of("-cp", camelCp, "dev.timbre.bench.CamelRouteMain",
                    subject.equals("camel-batch") ? "batch" : "default", "5672", queue, endpoint.toString(), queue));
        }
        pb.command(cmd).redirectErrorStream(true).redirectOutput(outLog.toFile());

        long start = System.nanoTime();
        Process p = pb.start();
        long firstSeen = 0;
        int firstCount = 0;
        long done = 0;
        long deadline = start + TimeUnit.MINUTES.toNanos(15);
        long[] cpuTicks = {0};
        long[] rssKb = {0};
        while (System.nanoTime() < deadline && p.isAlive()) {
            int count = approximateCount(sqs, queueUrl);
            long now = System.nanoTime();
            if (count > 0 && firstSeen == 0) {
                firstSeen = now;
                firstCount = count;
            }
            sampleProc(p.pid(), cpuTicks, rssKb);
            if (count >= n) {
                done = now;
                break;
            }
            Thread.sleep(100);
        }
        sampleProc(p.pid(), cpuTicks, rssKb);
        if (subject.equals("bridge")) {
            printBatchStats(metricsPort);
        }
        p.destroy(); // SIGTERM: every subject gets the chance to ack what it sent
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly().waitFor();
        }
        if (done == 0) {
            System.out.println(subject + " did not deliver " + n + " messages in time; see " + outLog);
        }

        List<String> seen = readBack(sqs, queueUrl);
        Set<String> distinct = new HashSet<>(seen);
        Set<String> lost = new HashSet<>(published);
        lost.removeAll(distinct);
        int left;
        try (Channel ch = rabbit.createChannel()) {
            left = ch.queueDeclarePassive(queue).getMessageCount();
            ch.queueDelete(queue);
            ch.queueDelete(queue + ".dlq");
            ch.exchangeDelete(queue + ".dlx");
        }
        double seconds = done == 0 ? Double.NaN : (done - firstSeen) / 1e9;
        double rate = done == 0 ? 0 : (n - firstCount) / Math.max(seconds, 1e-3);
        double wall = ((done == 0 ? System.nanoTime() : done) - start) / 1e9;
        return new Result(subject, round, n, rate, wall, distinct.size(), lost.size(), seen.size() - distinct.size(), left,
                cpuTicks[0] / clockTicks(), rssKb[0] / 1024, peakHeapMb(gcLog));
    }

    /**
     * ElasticMQ runs in this JVM: warm its code paths for both request kinds first, so the first subject does not
     * pay for ElasticMQ's JIT compilation and the later ones profit from it.
     */
    private static void warmUp(SqsClient sqs) {
        String url = sqs.createQueue(b -> b.queueName("bench-warm-up")).queueUrl();
        String body = jobBody(UUID.randomUUID().toString(), 0);
        List<software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry> entries = new ArrayList<>();
        for (int i = 0; i < 10; i++) {
            entries.add(software.amazon.awssdk.services.sqs.model.SendMessageBatchRequestEntry.builder()
                    .id(Integer.toString(i)).messageBody(body).build());
        }
        for (int i = 0; i < 500; i++) {
            sqs.sendMessageBatch(b -> b.queueUrl(url).entries(entries));
            sqs.sendMessage(b -> b.queueUrl(url).messageBody(body));
        }
        sqs.deleteQueue(b -> b.queueUrl(url));
    }

    /** Batch fill and send latency from the bridge's own /metrics, for the record. */
    private static void printBatchStats(int port) {
        try (var in = URI.create("http://127.0.0.1:" + port + "/metrics").toURL().openStream()) {
            String metrics = new String(in.readAllBytes(), StandardCharsets.UTF_8);
            for (String line : metrics.split("\n")) {
                if (line.matches("timbre_bridge_(batch_entries|send_seconds|forward_seconds)_(sum|count).*")
                        || line.startsWith("timbre_bridge_retries_total") || line.startsWith("timbre_bridge_forwarded_total")) {
                    System.out.println("  bridge metric " + line);
                }
            }
        } catch (IOException e) {
            System.out.println("  bridge metrics unavailable: " + e);
        }
    }

    private static String jobBody(String jobId, int i) {
        StringBuilder sb = new StringBuilder("{\"job_id\":\"").append(jobId).append("\",\"voice_id\":\"voice-")
                .append(i % 50).append("\",\"s3_key\":\"uploads/voice-").append(i % 50).append('/').append(jobId)
                .append(".wav\",\"s3_bucket\":\"timbre-uploads\",\"metadata\":{\"filename\":\"take-").append(i)
                .append(".wav\",\"note\":\"");
        while (sb.length() < 1021) {
            sb.append('n');
        }
        return sb.append("\"}}").toString();
    }

    private static int approximateCount(SqsClient sqs, String queueUrl) {
        Map<QueueAttributeName, String> a = sqs.getQueueAttributes(b -> b.queueUrl(queueUrl)
                .attributeNames(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES,
                        QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE)).attributes();
        return Integer.parseInt(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES))
                + Integer.parseInt(a.get(QueueAttributeName.APPROXIMATE_NUMBER_OF_MESSAGES_NOT_VISIBLE));
    }

    /** Reads every message once (visibility 1 h, so none comes back) and returns the job ids in them. */
    private static List<String> readBack(SqsClient sqs, String queueUrl) {
        List<String> ids = new ArrayList<>();
        int empty = 0;
        while (empty < 3) {
            List<Message> batch = sqs.receiveMessage(b -> b.queueUrl(queueUrl).maxNumberOfMessages(10)
                    .waitTimeSeconds(1)).messages();
            if (batch.isEmpty()) {
                empty++;
                continue;
            }
            empty = 0;
            for (Message m : batch) {
                Matcher match = JOB_ID.matcher(m.body());
                ids.add(match.find() ? match.group(1) : "unparseable:" + m.messageId());
            }
        }
        return ids;
    }

    private static void sampleProc(long pid, long[] cpuTicks, long[] rssKb) {
        try {
            String stat = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
            cpuTicks[0] = Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime + stime (fields 14, 15)
            for (String line : Files.readAllLines(Path.of("/proc/" + pid + "/status"))) {
                if (line.startsWith("VmHWM:")) {
                    rssKb[0] = Math.max(rssKb[0], Long.parseLong(line.replaceAll("\\D", "")));
                }
            }
        } catch (IOException | RuntimeException gone) {
            // the process ended between samples; keep the last values
        }
    }

    private static double clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            p.waitFor();
            return Double.parseDouble(out);
        } catch (Exception e) {
            return 100;
        }
    }

    private static long peakHeapMb(Path gcLog) throws IOException {
        long peak = 0;
        for (String line : Files.readAllLines(gcLog)) {
            Matcher m = GC_HEAP.matcher(line);
            if (m.find()) {
                peak = Math.max(peak, Long.parseLong(m.group(1)));
            }
        }
        return peak;
    }

    private static String render(List<Result> results, int n, String rabbitVersion, String command,
                                 String loadAverage) throws IOException {
        double camelDefault = results.stream().filter(r -> r.subject().equals("camel-default"))
                .mapToDouble(Result::msgsPerSec).average().orElse(Double.NaN);
        StringBuilder md = new StringBuilder();
        md.append("## RabbitMQ → SQS bridge vs Apache Camel 4.17\n\n");
        md.append("Measured ").append(Instant.now().truncatedTo(ChronoUnit.SECONDS)).append(" with `")
                .append(command).append("`.\n\n");
        md.append("Machine: ").append(cpuModel()).append(", ").append(Runtime.getRuntime().availableProcessors())
                .append(" CPUs, ").append(memTotal()).append(" RAM; Java ").append(System.getProperty("java.version"))
                .append("; RabbitMQ ").append(rabbitVersion).append(" on 127.0.0.1 (durable quorum queue, ")
                .append("persistent messages); ElasticMQ 1.7.1 in the harness JVM. ")
                .append(n).append(" job messages of ~1 KB JSON per subject, queued before the subject starts; ")
                .append("each subject runs in its own JVM with ").append(HEAP).append(".\n\n");
        md.append("| subject | mean msgs/s | × Camel default | lost | duplicates | left in RabbitMQ "
                + "| mean CPU s | peak RSS MiB | peak heap MiB |\n");
        md.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (String subject : results.stream().map(Result::subject).distinct().toList()) {
            List<Result> runs = results.stream().filter(r -> r.subject().equals(subject)).toList();
            double mean = runs.stream().mapToDouble(Result::msgsPerSec).average().orElse(Double.NaN);
            md.append(String.format(Locale.ROOT, "| %s | %.0f | %.1f | %d | %d | %d | %.1f | %d | %d |%n",
                    label(subject), mean, mean / camelDefault,
                    runs.stream().mapToInt(Result::lost).sum(), runs.stream().mapToInt(Result::duplicates).sum(),
                    runs.stream().mapToInt(Result::leftInRabbit).sum(),
                    runs.stream().mapToDouble(Result::cpuSeconds).average().orElse(Double.NaN),
                    runs.stream().mapToLong(Result::peakRssMb).max().orElse(0),
                    runs.stream().mapToLong(Result::peakHeapMb).max().orElse(0)));
        }
        md.append("\nEach run (rounds alternate the order of subjects):\n\n");
        md.append("| round | subject | msgs/s | wall s (incl. JVM start) | distinct ids in SQS | lost | duplicates "
                + "| CPU s | peak RSS MiB | peak heap MiB |\n");
        md.append("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Result r : results) {
            md.append(String.format(Locale.ROOT, "| %d | %s | %.0f | %.1f | %d | %d | %d | %.1f | %d | %d |%n",
                    r.round(), label(r.subject()), r.msgsPerSec(), r.wallSeconds(), r.distinct(), r.lost(),
                    r.duplicates(), r.cpuSeconds(), r.peakRssMb(), r.peakHeapMb()));
        }
        double bridge = results.stream().filter(r -> r.subject().equals("bridge"))
                .mapToDouble(Result::msgsPerSec).average().orElse(Double.NaN);
        double batch = results.stream().filter(r -> r.subject().equals("camel-batch"))
                .mapToDouble(Result::msgsPerSec).average().orElse(Double.NaN);
        md.append("\nmsgs/s counts from the first message seen in SQS to the last (JVM and route start-up excluded); ")
                .append("lost = published job ids never read back from SQS; duplicates = extra copies. ")
                .append("Bridge: its defaults (prefetch 500, 8 batches in flight, linger 5 ms). Camel default: ")
                .append("`spring-rabbitmq` (AUTO ack, 1 consumer, prefetch 250) → `aws2-sqs` (one `SendMessage` per ")
                .append("message). Camel batch: the same source, `aggregate` of 10 bodies (completion timeout 100 ms) → ")
                .append("`aws2-sqs?operation=sendBatchMessage`; it acks each message once the aggregator holds it, ")
                .append("before SQS has it, and never reads `Failed` entries, so its zero loss here holds only while ")
                .append("nothing fails.\n\n");
        md.append(String.format(Locale.ROOT, "Goal ≥ 5× Camel's default route: %s (%.1f×). ", bridge / camelDefault >= 5
                ? "met" : "not met on this machine", bridge / camelDefault))
                .append("Every subject here is bound by ElasticMQ, which runs in the harness JVM on the same shared ")
                .append("CPUs (load average at start: ").append(loadAverage).append(String.format(Locale.ROOT,
                        "); Camel's own batch mode reaches %.1f× its default route, which shows how much ", batch
                        / camelDefault))
                .append("ElasticMQ lets any batching client gain over `SendMessage` here. Against real SQS, where a ")
                .append("request costs network latency rather than local CPU, the bridge's 8 concurrent batches of 10 ")
                .append("are the advantage; this run does not measure that. Runs on this machine vary by ±50 % with the ")
                .append("load of other jobs.\n");
        return md.toString();
    }

    private static String label(String subject) {
        return switch (subject) {
            case "bridge" -> "Timbre bridge";
            case "camel-default" -> "Camel `spring-rabbitmq` → `aws2-sqs` (defaults)";
            default -> "Camel, `operation=sendBatchMessage`";
        };
    }

    private static String cpuModel() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
            if (line.startsWith("model name")) {
                return line.substring(line.indexOf(':') + 1).trim();
            }
        }
        return "unknown CPU";
    }

    private static String memTotal() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
            if (line.startsWith("MemTotal:")) {
                return Math.round(Long.parseLong(line.replaceAll("\\D", "")) / 1024.0 / 1024.0) + " GiB";
            }
        }
        return "? GiB";
    }

    /** Replaces (or adds) only the bridge's section of the shared benchmarks file. */
    static void writeSection(Path docs, String section) throws IOException {
        String begin = "<!-- bridge:begin -->";
        String end = "<!-- bridge:end -->";
        String block = begin + "\n" + section + end;
        String text = Files.exists(docs) ? Files.readString(docs) : "";
        int b = text.indexOf(begin);
        int e = text.indexOf(end);
        if (b >= 0 && e > b) {
            text = text.substring(0, b) + block + text.substring(e + end.length());
        } else {
            text = text + (text.isEmpty() || text.endsWith("\n\n") ? "" : text.endsWith("\n") ? "\n" : "\n\n")
                    + block + "\n";
        }
        Files.createDirectories(docs.toAbsolutePath().getParent());
        Files.writeString(docs, text);
    }
}
