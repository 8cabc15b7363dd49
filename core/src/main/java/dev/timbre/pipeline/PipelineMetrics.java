package dev.timbre.pipeline;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.io.PrintStream;
import java.time.Clock;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Pipeline metrics written as CloudWatch Embedded Metric Format: one JSON line per flush on stdout, which
 * Lambda ships to CloudWatch Logs where the metrics are extracted (ECS: through the CloudWatch agent or a
 * FireLens route with the {@code json/emf} format). Spec:
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html
 *
 * <p>Why not Powertools metrics 2.9.0: it keys its singleton by X-Ray trace id (awkward from a worker pool and
 * outside Lambda), pulls aws-embedded-metrics with a second Jackson and CRaC, and outside Lambda needs
 * {@code AWS_EMF_ENVIRONMENT} or a non-daemon thread keeps the JVM alive. The format is one small JSON object.
 *
 * <p>Metrics: {@code Jobs<Disposition>} counts (completed, failed by class), stage latencies in
 * milliseconds ({@code Stage<Name>Ms}, one value per job), {@code BatchSize}, {@code QueueAgeMs} (now minus
 * SentTimestamp, one value per message); of the completion events (docs/architecture.md §13) {@code EventsPublished},
 * {@code EventPublishFailures} (counts) and {@code EventOutboxAgeSeconds}. Thread-safe: workers record concurrently; the host flushes once per
 * batch.
 */
public final class PipelineMetrics {

    /** EMF allows at most 100 values per metric in one blob. */
    private static final int MAX_VALUES = 100;

    private final PrintStream out;
    private final String namespace;
    private final String service;
    private final Clock clock;
    private final ObjectMapper json = new ObjectMapper();

    private final Map<Disposition, Integer> counts = new EnumMap<>(Disposition.class);
    private final Map<String, List<Double>> values = new LinkedHashMap<>();
    private final Map<String, Integer> totals = new LinkedHashMap<>();

    /**
     * @param out       where EMF lines go (stdout in production)
     * @param namespace CloudWatch namespace, for example {@code Timbre}
     * @param service   the {@code Service} dimension, for example {@code timbre-lambda} or {@code timbre-ecs}
     */
    public PipelineMetrics(PrintStream out, String namespace, String service, Clock clock) {
        this.out = out;
        this.namespace = namespace;
        this.service = service;
        this.clock = clock;
    }

    public synchronized void countOutcome(Disposition disposition) {
        counts.merge(disposition, 1, Integer::sum);
    }

    /** One stage latency of one job, for example {@code ("Fetch", 12)} becomes {@code StageFetchMs}. */
    public void stageLatency(String stage, long millis) {
        addValue("Stage" + stage + "Ms", millis);
    }

    public void batchSize(int size) {
        addValue("BatchSize", size);
    }

    public void queueAge(long millis) {
        addValue("QueueAgeMs", Math.max(0, millis));
    }

    /** Completion events the sink accepted (docs/architecture.md §13). */
    public void eventsPublished(int count) {
        addTotal("EventsPublished", count);
    }

    /** Completion events the sink refused or could not be reached for; they stay in the outbox. */
    public void eventPublishFailures(int count) {
        addTotal("EventPublishFailures", count);
    }

    /** Age of the oldest unpublished event, seconds: the outbox alarm's metric. */
    public void eventOutboxAge(double seconds) {
        addValue("EventOutboxAgeSeconds", Math.max(0, seconds));
    }

    private synchronized void addTotal(String name, int count) {
        if (count > 0) {
            totals.merge(name, count, Integer::sum);
        }
    }

    private synchronized void addValue(String name, double value) {
        List<Double> list = values.computeIfAbsent(name, k -> new ArrayList<>());
        if (list.size() < MAX_VALUES) {
            list.add(value);
        }
    }

    /** Writes everything recorded since the last flush as one EMF line and starts afresh; nothing if empty. */
    public void flush() {
        String line;
        synchronized (this) {
            if (counts.isEmpty() && values.isEmpty() && totals.isEmpty()) {
                return;
            }
            line = render();
            counts.clear();
            values.clear();
            totals.clear();
        }
        out.println(line);
    }

    private String render() {
        ObjectNode root = json.createObjectNode();
        ObjectNode aws = root.putObject("_aws");
        aws.put("Timestamp", clock.millis());
        ObjectNode directive = aws.putArray("CloudWatchMetrics").addObject();
        directive.put("Namespace", namespace);
        directive.putArray("Dimensions").addArray().add("Service");
        ArrayNode metrics = directive.putArray("Metrics");
        root.put("Service", service);
        for (Map.Entry<Disposition, Integer> e : counts.entrySet()) {
            String name = "Jobs" + camel(e.getKey().name());
            metrics.addObject().put("Name", name).put("Unit", "Count");
            root.put(name, e.getValue());
        }
        for (Map.Entry<String, Integer> e : totals.entrySet()) {
            metrics.addObject().put("Name", e.getKey()).put("Unit", "Count");
            root.put(e.getKey(), e.getValue());
        }
        for (Map.Entry<String, List<Double>> e : values.entrySet()) {
            String unit = e.getKey().endsWith("Ms") ? "Milliseconds" : e.getKey().endsWith("Seconds") ? "Seconds"
                    : "Count";
            metrics.addObject().put("Name", e.getKey()).put("Unit", unit);
            ArrayNode array = root.putArray(e.getKey());
            e.getValue().forEach(array::add);
        }
        return root.toString();
    }

    private static String camel(String upperSnake) {
        StringBuilder b = new StringBuilder();
        for (String part : upperSnake.split("_")) {
            b.append(part.charAt(0)).append(part.substring(1).toLowerCase());
        }
        return b.toString();
    }
}
