package dev.timbre.store;

import com.google.common.util.concurrent.ListenableFuture;
import dev.timbre.job.TransientJobException;
import dev.timbre.tone.SeMode;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.qdrant.client.ConditionFactory;
import io.qdrant.client.PointIdFactory;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.ValueFactory;
import io.qdrant.client.grpc.Collections.CollectionInfo;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Common.Filter;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.DeletePoints;
import io.qdrant.client.grpc.Points.DenseVector;
import io.qdrant.client.grpc.Points.GetPoints;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.PointsIdsList;
import io.qdrant.client.grpc.Points.PointsSelector;
import io.qdrant.client.grpc.Points.Query;
import io.qdrant.client.grpc.Points.QueryPoints;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.ScoredPoint;
import io.qdrant.client.grpc.Points.UpdateResult;
import io.qdrant.client.grpc.Points.UpdateStatus;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.Vector;
import io.qdrant.client.grpc.Points.VectorInput;
import io.qdrant.client.grpc.Points.Vectors;
import io.qdrant.client.grpc.Points.VectorsOutput;
import io.qdrant.client.grpc.Points.WithPayloadSelector;
import io.qdrant.client.grpc.Points.WithVectorsSelector;
import java.net.URI;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link EmbeddingStore} on a Qdrant collection over gRPC (docs/architecture.md §5): one unnamed dense vector of
 * {@code dimension} floats per point, cosine distance, point id = job id, payload {@code voice_id} (keyword
 * index), {@code job_id}, {@code model}, {@code processed_at} (ISO-8601), {@code duration_s}, {@code se_mode}
 * (keyword index; searches filter on it, and a point without it, written before modes existed, is extract-se).
 *
 * <p>Every call carries a gRPC deadline. Upserts wait for the write to be applied ({@code wait=true}); any
 * result but {@code Completed} is an error. Upserts of several threads at the same moment share one call
 * ({@link GroupCommit}). Failures are classified once, here: {@code UNAVAILABLE},
 * {@code DEADLINE_EXCEEDED}, {@code RESOURCE_EXHAUSTED}, {@code ABORTED}, {@code INTERNAL}, {@code UNKNOWN} and
 * {@code CANCELLED} (and local timeouts or interrupts) are {@link TransientJobException}; other statuses
 * ({@code INVALID_ARGUMENT}, {@code UNAUTHENTICATED}, {@code NOT_FOUND}, ...) mean a misconfiguration and are
 * {@link IllegalStateException}; they are not the job's fault, so they are not permanent job failures either.
 *
 * <p>Thread-safe: the gRPC client multiplexes calls from all worker threads over one channel. {@link #close()}
 * closes the client.
 */
public final class QdrantEmbeddingStore implements EmbeddingStore {

    /** Qdrant's gRPC port. */
    public static final int DEFAULT_GRPC_PORT = 6334;
    /** Deadline of one call; an upsert of one point with wait=true takes milliseconds on a healthy server. */
    public static final Duration DEFAULT_CALL_TIMEOUT = Duration.ofSeconds(10);

    static final String VOICE_ID = "voice_id";
    static final String JOB_ID = "job_id";
    static final String MODEL = "model";
    static final String PROCESSED_AT = "processed_at";
    static final String DURATION_S = "duration_s";
    static final String SE_MODE = "se_mode";

    private static final Set<Status.Code> TRANSIENT_CODES = Set.of(Status.Code.UNAVAILABLE,
            Status.Code.DEADLINE_EXCEEDED, Status.Code.RESOURCE_EXHAUSTED, Status.Code.ABORTED, Status.Code.INTERNAL,
            Status.Code.UNKNOWN, Status.Code.CANCELLED);
    /** A point is about 1.3 KB on the wire (256 floats and the payload): 64 keep a call well under 100 KB. */
    static final int MAX_POINTS_PER_UPSERT = 64;
    // Beyond the gRPC deadline, so that the server's DEADLINE_EXCEEDED normally arrives first
    private static final Duration LOCAL_WAIT_SLACK = Duration.ofSeconds(1);

    private static final Logger log = LoggerFactory.getLogger(QdrantEmbeddingStore.class);

    private final QdrantClient client;
    private final String collection;
    private final int dimension;
    private final Duration callTimeout;
    private final GroupCommit<PointStruct> upserts =
            new GroupCommit<>(this::upsertNow, QdrantEmbeddingStore::timedOut, MAX_POINTS_PER_UPSERT);

    /**
     * @param client      the client to use; closed by {@link #close()}
     * @param collection  collection name
     * @param dimension   vector size (256 for OpenVoice)
     * @param callTimeout deadline of each call
     */
    public QdrantEmbeddingStore(QdrantClient client, String collection, int dimension, Duration callTimeout) {
        this.client = Objects.requireNonNull(client, "client");
        this.collection = Objects.requireNonNull(collection, "collection");
        if (dimension < 1) {
            throw new IllegalArgumentException("dimension must be at least 1, was " + dimension);
        }
        this.dimension = dimension;
        this.callTimeout = Objects.requireNonNull(callTimeout, "callTimeout");
    }

    /**
     * A store with its own client for {@code url} ({@code http://host:6334}; {@code https} means TLS; the port
     * defaults to 6334). The client connects lazily, so this does not fail when Qdrant is down; the first call
     * does, as a {@link TransientJobException}.
     *
     * @param apiKey sent as the {@code api-key} header when present (Qdrant Cloud, secured servers)
     */
    public static QdrantEmbeddingStore connect(URI url, Optional<String> apiKey, String collection, int dimension,
                                               Duration callTimeout) {
        String scheme = url.getScheme() == null ? "" : url.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new IllegalArgumentException("Qdrant URL must be http or https, was " + url);
        }
        boolean tls = scheme.equals("https");
        int port = url.getPort() == -1 ? DEFAULT_GRPC_PORT : url.getPort();
        // No compatibility check: it is a blocking HealthCheck at build time, one more round trip per cold start
        QdrantGrpcClient.Builder builder = QdrantGrpcClient.newBuilder(url.getHost(), port, tls, false)
                .withTimeout(callTimeout);
        apiKey.ifPresent(builder::withApiKey);
        if (apiKey.isPresent() && !tls) {
            log.warn("Qdrant API key is sent without TLS: url={}", url);
        }
        return new QdrantEmbeddingStore(new QdrantClient(builder.build()), collection, dimension, callTimeout);
    }

    /**
     * Creates the collection (size = dimension, cosine) and the keyword index on {@code voice_id} when missing.
     * Safe when several containers start at once: a concurrent creation is accepted.
     *
     * @throws IllegalStateException when the existing collection has another vector size or distance
     */
    @Override
    public void ensureReady() {
        boolean exists = await("checking collection " + collection,
                client.collectionExistsAsync(collection, callTimeout));
        if (!exists) {
            try {
                await("creating collection " + collection, client.createCollectionAsync(collection,
                        VectorParams.newBuilder().setSize(dimension).setDistance(Distance.Cosine).build(),
                        callTimeout));
                log.info("Qdrant collection created: collection={} size={} distance=Cosine", collection, dimension);
            } catch (IllegalStateException e) {
                if (!(e.getCause() instanceof StatusRuntimeException s
                        && s.getStatus().getCode() == Status.Code.ALREADY_EXISTS)) {
                    throw e;
                }
                log.info("Qdrant collection created concurrently by another worker: collection={}", collection);
            }
        }
        CollectionInfo info = await("reading collection " + collection,
                client.getCollectionInfoAsync(collection, callTimeout));
        VectorParams params = info.getConfig().getParams().getVectorsConfig().getParams();
        if (params.getSize() != dimension || params.getDistance() != Distance.Cosine) {
            throw new IllegalStateException("Qdrant collection " + collection + " holds " + params.getSize()
                    + "-dimensional " + params.getDistance() + " vectors; this store needs " + dimension
                    + "-dimensional Cosine vectors (use another TIMBRE_QDRANT_COLLECTION)");
        }
        // se_mode too: every search filters on it. An existing collection gets the index on its next start.
        for (String field : List.of(VOICE_ID, SE_MODE)) {
            if (!info.getPayloadSchemaMap().containsKey(field)) {
                UpdateResult result = await("indexing " + field, client.createPayloadIndexAsync(collection, field,
                        PayloadSchemaType.Keyword, null, true, null, callTimeout));
                log.info("Qdrant payload index created: collection={} field={} status={}", collection, field,
                        result.getStatus());
            }
        }
    }

    /**
     * Writes the point, in one call with the points other threads write at the same moment ({@link GroupCommit}):
     * a Lambda batch's or the ECS pool's jobs that reach this step together cost Qdrant one write, not one each.
     * Still one outcome per job: it returns once its own point is applied, and a group the server refuses is
     * written again point by point.
     */
    @Override
    public void upsert(StoredEmbedding embedding) {
        requireDimension(embedding.vector());
        upserts.write(PointStruct.newBuilder()
                .setId(PointIdFactory.id(embedding.jobId()))
                .setVectors(Vectors.newBuilder().setVector(Vector.newBuilder().setDense(dense(embedding.vector()))))
                .putAllPayload(Map.of(
                        VOICE_ID, ValueFactory.value(embedding.voiceId()),
                        JOB_ID, ValueFactory.value(embedding.jobId().toString()),
                        MODEL, ValueFactory.value(embedding.model()),
                        PROCESSED_AT, ValueFactory.value(embedding.processedAt().toString()),
                        DURATION_S, ValueFactory.value(embedding.durationSeconds()),
                        SE_MODE, ValueFactory.value(embedding.seMode().id())))
                .build());
    }

    /** One upsert call for {@code points}, waiting until they are applied. */
    private void upsertNow(List<PointStruct> points) {
        String action = points.size() == 1
                ? "writing point " + points.get(0).getId().getUuid() + " to " + collection
                : "writing " + points.size() + " points to " + collection;
        UpdateResult result = await(action, client.upsertAsync(UpsertPoints.newBuilder()
                .setCollectionName(collection)
                .setWait(true) // the job may only be COMPLETED once the point is really stored
                .addAllPoints(points)
                .build(), callTimeout));
        if (result.getStatus() != UpdateStatus.Completed) {
            // WaitTimeout or ClockRejected: the server did not confirm the write; the redelivery will repeat it
            throw new TransientJobException("Qdrant did not complete " + action + ": status " + result.getStatus(),
                    null);
        }
    }

    @Override
    public Optional<StoredEmbedding> get(UUID pointId) {
        List<RetrievedPoint> points = await("reading point " + pointId, client.retrieveAsync(GetPoints.newBuilder()
                .setCollectionName(collection)
                .addIds(PointIdFactory.id(pointId))
                .setWithPayload(WithPayloadSelector.newBuilder().setEnable(true))
                .setWithVectors(WithVectorsSelector.newBuilder().setEnable(true))
                .build(), callTimeout));
        if (points.isEmpty()) {
            return Optional.empty();
        }
        RetrievedPoint point = points.get(0);
        Map<String, Value> payload = point.getPayloadMap();
        return Optional.of(new StoredEmbedding(pointId, payloadString(payload, VOICE_ID),
                vectorOf(point.getVectors()), payloadString(payload, MODEL),
                Instant.parse(payloadString(payload, PROCESSED_AT)), payload.get(DURATION_S).getDoubleValue(),
                modeOf(payload)));
    }

    /** A point written before modes existed has no se_mode: it is a whole-clip embedding. */
    private static SeMode modeOf(Map<String, Value> payload) {
        Value value = payload.get(SE_MODE);
        return value == null || !value.hasStringValue() ? SeMode.EXTRACT_SE : SeMode.fromId(value.getStringValue());
    }

    @Override
    public void delete(UUID pointId) {
        String action = "deleting point " + pointId + " from " + collection;
        UpdateResult result = await(action, client.deleteAsync(DeletePoints.newBuilder()
                .setCollectionName(collection)
                .setWait(true) // the caller goes on as if the point were gone: it must be
                .setPoints(PointsSelector.newBuilder().setPoints(PointsIdsList.newBuilder()
                        .addIds(PointIdFactory.id(pointId))))
                .build(), callTimeout));
        if (result.getStatus() != UpdateStatus.Completed) {
            throw new TransientJobException("Qdrant did not complete " + action + ": status " + result.getStatus(),
                    null);
        }
    }

    @Override
    public List<Neighbour> nearest(float[] vector, int k, SeMode mode) {
        requireDimension(vector);
        if (k < 1) {
            throw new IllegalArgumentException("k must be at least 1, was " + k);
        }
        List<ScoredPoint> hits = await("searching " + collection, client.queryAsync(QueryPoints.newBuilder()
                .setCollectionName(collection)
                .setQuery(Query.newBuilder().setNearest(VectorInput.newBuilder().setDense(dense(vector))))
                .setFilter(modeFilter(mode))
                .setLimit(k)
                .setWithPayload(WithPayloadSelector.newBuilder().setEnable(true))
                .build(), callTimeout));
        List<Neighbour> neighbours = new ArrayList<>(hits.size());
        for (ScoredPoint hit : hits) {
            neighbours.add(new Neighbour(UUID.fromString(hit.getId().getUuid()),
                    payloadString(hit.getPayloadMap(), VOICE_ID), hit.getScore()));
        }
        return neighbours;
    }

    /** Points of {@code mode} only; for extract-se also the points without se_mode (written before modes). */
    static Filter modeFilter(SeMode mode) {
        if (mode == SeMode.EXTRACT_SE) {
            return Filter.newBuilder()
                    .addShould(ConditionFactory.matchKeyword(SE_MODE, mode.id()))
                    .addShould(ConditionFactory.isEmpty(SE_MODE))
                    .build();
        }
        return Filter.newBuilder().addMust(ConditionFactory.matchKeyword(SE_MODE, mode.id())).build();
    }

    @Override
    public String collection() {
        return "qdrant:" + collection;
    }

    @Override
    public void close() {
        client.close();
    }

    /**
     * A call that hit its deadline: a grouped upsert that timed out is every point's failure, since writing them
     * again one by one would only wait out the deadline once per point.
     */
    static boolean timedOut(RuntimeException e) {
        return e.getCause() instanceof TimeoutException
                || e.getCause() instanceof StatusRuntimeException s
                && s.getStatus().getCode() == Status.Code.DEADLINE_EXCEEDED;
    }

    private void requireDimension(float[] vector) {
        if (vector.length != dimension) {
            throw new IllegalArgumentException("vector has " + vector.length + " dimensions, the collection "
                    + collection + " " + dimension);
        }
    }

    /**
     * Waits for a call and classifies its failure. The future carries the gRPC deadline; the local wait is a
     * backstop so that a lost response can never hold a worker thread.
     */
    private <T> T await(String action, ListenableFuture<T> call) {
        try {
            return call.get(callTimeout.plus(LOCAL_WAIT_SLACK).toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            call.cancel(true);
            Thread.currentThread().interrupt();
            throw new TransientJobException("Qdrant call interrupted while " + action, e);
        } catch (TimeoutException e) {
            call.cancel(true);
            throw new TransientJobException("Qdrant timed out " + action, e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof StatusRuntimeException s) {
                Status status = s.getStatus();
                String reason = status.getCode() + (status.getDescription() == null ? ""
                        : ": " + status.getDescription().replaceAll("\\s+", " "));
                if (TRANSIENT_CODES.contains(status.getCode())) {
                    throw new TransientJobException("Qdrant unavailable " + action + " (" + reason + ")", s);
                }
                throw new IllegalStateException("Qdrant rejected " + action + " (" + reason + ")", s);
            }
            throw new TransientJobException("Qdrant failed " + action + ": " + cause, cause);
        }
    }

    private static DenseVector dense(float[] vector) {
        DenseVector.Builder dense = DenseVector.newBuilder();
        for (float value : vector) {
            dense.addData(value);
        }
        return dense.build();
    }

    // The flat data field is deprecated in favour of the dense oneof, but a server may still answer with it
    @SuppressWarnings("deprecation")
    private static float[] vectorOf(VectorsOutput vectors) {
        var output = vectors.getVector();
        List<Float> data = output.hasDense() ? output.getDense().getDataList() : output.getDataList();
        float[] array = new float[data.size()];
        for (int i = 0; i < array.length; i++) {
            array[i] = data.get(i);
        }
        return array;
    }

    private static String payloadString(Map<String, Value> payload, String field) {
        Value value = payload.get(field);
        if (value == null || !value.hasStringValue()) {
            throw new IllegalStateException("Qdrant point lacks the string payload field " + field);
        }
        return value.getStringValue();
    }
}
