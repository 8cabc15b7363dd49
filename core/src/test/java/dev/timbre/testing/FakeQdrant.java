package dev.timbre.testing;

import io.grpc.ManagedChannel;
import io.grpc.Metadata;
import io.grpc.Server;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.inprocess.InProcessChannelBuilder;
import io.grpc.inprocess.InProcessServerBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import io.qdrant.client.QdrantClient;
import io.qdrant.client.QdrantGrpcClient;
import io.qdrant.client.grpc.Collections.CollectionConfig;
import io.qdrant.client.grpc.Collections.CollectionExists;
import io.qdrant.client.grpc.Collections.CollectionExistsRequest;
import io.qdrant.client.grpc.Collections.CollectionExistsResponse;
import io.qdrant.client.grpc.Collections.CollectionInfo;
import io.qdrant.client.grpc.Collections.CollectionOperationResponse;
import io.qdrant.client.grpc.Collections.CollectionParams;
import io.qdrant.client.grpc.Collections.CollectionStatus;
import io.qdrant.client.grpc.Collections.CreateCollection;
import io.qdrant.client.grpc.Collections.Distance;
import io.qdrant.client.grpc.Collections.GetCollectionInfoRequest;
import io.qdrant.client.grpc.Collections.GetCollectionInfoResponse;
import io.qdrant.client.grpc.Collections.PayloadSchemaInfo;
import io.qdrant.client.grpc.Collections.PayloadSchemaType;
import io.qdrant.client.grpc.Collections.VectorParams;
import io.qdrant.client.grpc.Collections.VectorsConfig;
import io.qdrant.client.grpc.CollectionsGrpc;
import io.qdrant.client.grpc.Common.PointId;
import io.qdrant.client.grpc.JsonWithInt.Value;
import io.qdrant.client.grpc.Points.CreateFieldIndexCollection;
import io.qdrant.client.grpc.Points.DeletePoints;
import io.qdrant.client.grpc.Points.DenseVector;
import io.qdrant.client.grpc.Points.FieldType;
import io.qdrant.client.grpc.Points.GetPoints;
import io.qdrant.client.grpc.Points.GetResponse;
import io.qdrant.client.grpc.Points.PointStruct;
import io.qdrant.client.grpc.Points.PointsOperationResponse;
import io.qdrant.client.grpc.Points.QueryPoints;
import io.qdrant.client.grpc.Points.QueryResponse;
import io.qdrant.client.grpc.Points.RetrievedPoint;
import io.qdrant.client.grpc.Points.ScoredPoint;
import io.qdrant.client.grpc.Points.SearchPoints;
import io.qdrant.client.grpc.Points.SearchResponse;
import io.qdrant.client.grpc.Points.UpdateResult;
import io.qdrant.client.grpc.Points.UpdateStatus;
import io.qdrant.client.grpc.Points.UpsertPoints;
import io.qdrant.client.grpc.Points.VectorOutput;
import io.qdrant.client.grpc.Points.VectorsOutput;
import io.qdrant.client.grpc.PointsGrpc;
import io.qdrant.client.grpc.QdrantGrpc;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckReply;
import io.qdrant.client.grpc.QdrantOuterClass.HealthCheckRequest;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An in-memory Qdrant speaking the real gRPC protocol, for tests: the services Timbre uses (Qdrant/HealthCheck;
 * Collections/CollectionExists, Create, Get, List; Points/Upsert, Get, Search, Query, CreateFieldIndex) over an
 * in-process transport, reachable by the real {@link QdrantClient} ({@link #newClient()}), and optionally on a
 * real TCP port on 127.0.0.1 ({@link #startWithTcp()}) so that a child JVM can use it through
 * {@code TIMBRE_QDRANT_URL}.
 *
 * <p>Tests read back what was written ({@link #point}, {@link #pointCount}, {@link #collection}) and inject
 * faults: gRPC errors on upserts of one point or the next n calls, non-{@code Completed} upsert results, delays
 * and a required API key. Vectors are compared by cosine similarity. Behaviour follows Qdrant 1.18 where this
 * class implements it: upsert overwrites by id, {@code wait=false} answers {@code Acknowledged}, a missing
 * collection is {@code NOT_FOUND}, creating an existing one is {@code ALREADY_EXISTS}.
 *
 * <p>Thread-safe; state is guarded by this object's monitor. Close it to stop the servers.
 */
public final class FakeQdrant implements AutoCloseable {

    /** Reported by HealthCheck; the client's compatibility check compares it with its own version. */
    public static final String VERSION = "1.18.0";

    private static final Metadata.Key<String> API_KEY = Metadata.Key.of("api-key", Metadata.ASCII_STRING_MARSHALLER);

    /** A stored point: its vector and payload exactly as received. */
    public record StoredPoint(UUID id, float[] vector, Map<String, Value> payload) {
        /** A string payload field, or empty. */
        public Optional<String> string(String field) {
            Value value = payload.get(field);
            return value != null && value.hasStringValue() ? Optional.of(value.getStringValue()) : Optional.empty();
        }

        /** A numeric payload field (double or integer), or empty. */
        public Optional<Double> number(String field) {
            Value value = payload.get(field);
            if (value == null) {
                return Optional.empty();
            }
            if (value.hasDoubleValue()) {
                return Optional.of(value.getDoubleValue());
            }
            return value.hasIntegerValue() ? Optional.of((double) value.getIntegerValue()) : Optional.empty();
        }
    }

    /** A collection as created: its vector size and distance, its payload indexes and points. */
    public record CollectionState(String name, long vectorSize, Distance distance,
                                  Map<String, PayloadSchemaType> payloadIndexes, Map<UUID, StoredPoint> points) {
    }

    private final String serverName = "fake-qdrant-" + UUID.randomUUID();
    private final ExecutorService executor = Executors.newCachedThreadPool(runnable -> {
        Thread thread = new Thread(runnable, "fake-qdrant");
        thread.setDaemon(true);
        return thread;
    });
    private final Server inProcessServer;
    private final Server tcpServer;

    // --- state, guarded by this ---
    private final Map<String, CollectionState> collections = new LinkedHashMap<>();
    private final Map<UUID, Status> upsertFaultsByPoint = new HashMap<>();
    private int failNextUpsertsCount;
    private Status failNextUpsertsStatus;
    private int failNextCallsCount;
    private Status failNextCallsStatus;
    private UpdateStatus upsertAnswer = UpdateStatus.Completed;
    private Duration upsertDelay = Duration.ZERO;
    private String requiredApiKey;
    private final Set<String> apiKeysSeen = new LinkedHashSet<>();
    private final AtomicInteger upsertCalls = new AtomicInteger();
    private final AtomicInteger calls = new AtomicInteger();

    private FakeQdrant(boolean tcp) {
        var services = List.of(
                ServerInterceptors.intercept(new HealthService(), new CallGate()),
                ServerInterceptors.intercept(new CollectionsService(), new CallGate()),
                ServerInterceptors.intercept(new PointsService(), new CallGate()));
        try {
            InProcessServerBuilder inProcess = InProcessServerBuilder.forName(serverName).executor(executor);
            services.forEach(inProcess::addService);
            inProcessServer = inProcess.build().start();
            if (tcp) {
                NettyServerBuilder netty = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
                        .executor(executor);
                services.forEach(netty::addService);
                tcpServer = netty.build().start();
            } else {
                tcpServer = null;
            }
        } catch (IOException e) {
            throw new IllegalStateException("fake Qdrant did not start", e);
        }
    }

    /** Serves in-process only. */
    public static FakeQdrant start() {
        return new FakeQdrant(false);
    }

    /** Serves in-process and on a free TCP port on 127.0.0.1 (plaintext gRPC). */
    public static FakeQdrant startWithTcp() {
        return new FakeQdrant(true);
    }

    // --- connecting ---

    /** A new in-process channel to this server; the caller shuts it down (or hands it to a client that does). */
    public ManagedChannel newChannel() {
        return InProcessChannelBuilder.forName(serverName).build();
    }

    /** The real Qdrant client over an in-process channel it owns; the caller closes it. */
    public QdrantClient newClient() {
        return newClient(null);
    }

    /** As {@link #newClient()}, sending {@code apiKey} (null: none). */
    public QdrantClient newClient(String apiKey) {
        QdrantGrpcClient.Builder builder = QdrantGrpcClient.newBuilder(newChannel(), true, true);
        if (apiKey != null) {
            builder.withApiKey(apiKey);
        }
        return new QdrantClient(builder.build());
    }

    /** The TCP port, when started with {@link #startWithTcp()}. */
    public int tcpPort() {
        if (tcpServer == null) {
            throw new IllegalStateException("this fake Qdrant serves in-process only: use startWithTcp()");
        }
        return tcpServer.getPort();
    }

    /** {@code http://127.0.0.1:<port>}, the value for {@code TIMBRE_QDRANT_URL}. */
    public String url() {
        return "http://127.0.0.1:" + tcpPort();
    }

    // --- reading state ---

    public synchronized Optional<CollectionState> collection(String name) {
        CollectionState state = collections.get(name);
        return state == null ? Optional.empty() : Optional.of(copyOf(state));
    }

    public synchronized Optional<StoredPoint> point(String collection, UUID id) {
        CollectionState state = collections.get(collection);
        return state == null ? Optional.empty() : Optional.ofNullable(state.points().get(id));
    }

    public synchronized int pointCount(String collection) {
        CollectionState state = collections.get(collection);
        return state == null ? 0 : state.points().size();
    }

    /** The ids of every point of the collection now (empty when there is no such collection). */
    public synchronized Set<UUID> pointIds(String collection) {
        CollectionState state = collections.get(collection);
        return state == null ? Set.of() : Set.copyOf(state.points().keySet());
    }

    /** Upsert RPCs received, including failed ones. */
    public int upsertCalls() {
        return upsertCalls.get();
    }

    /** All RPCs received, including failed ones. */
    public int calls() {
        return calls.get();
    }

    /** Distinct {@code api-key} header values seen. */
    public synchronized Set<String> apiKeysSeen() {
        return Set.copyOf(apiKeysSeen);
    }

    // --- faults ---

    /** Every upsert containing {@code pointId} fails with {@code status} until {@link #clearFaults()}. */
    public synchronized void failUpsertsFor(UUID pointId, Status status) {
        upsertFaultsByPoint.put(pointId, status);
    }

    /** The next {@code n} upserts fail with {@code status}; nothing is written. */
    public synchronized void failNextUpserts(int n, Status status) {
        failNextUpsertsCount = n;
        failNextUpsertsStatus = status;
    }

    /** The next {@code n} calls of any RPC fail with {@code status}. */
    public synchronized void failNextCalls(int n, Status status) {
        failNextCallsCount = n;
        failNextCallsStatus = status;
    }

    /** Upserts are applied but answer {@code status} instead of {@code Completed} (when waited for). */
    public synchronized void answerUpsertsWith(UpdateStatus status) {
        upsertAnswer = status;
    }

    /** Each upsert waits this long before it is applied and answered (for deadline tests). */
    public synchronized void delayUpserts(Duration delay) {
        upsertDelay = delay;
    }

    /** Calls without this {@code api-key} header fail with {@code UNAUTHENTICATED}, as Qdrant's do. */
    public synchronized void requireApiKey(String apiKey) {
        requiredApiKey = apiKey;
    }

    /** Removes all faults, delays and the API key requirement. */
    public synchronized void clearFaults() {
        upsertFaultsByPoint.clear();
        failNextUpsertsCount = 0;
        failNextCallsCount = 0;
        upsertAnswer = UpdateStatus.Completed;
        upsertDelay = Duration.ZERO;
        requiredApiKey = null;
    }

    @Override
    public void close() {
        inProcessServer.shutdownNow();
        if (tcpServer != null) {
            tcpServer.shutdownNow();
        }
        try {
            inProcessServer.awaitTermination(5, TimeUnit.SECONDS);
            if (tcpServer != null) {
                tcpServer.awaitTermination(5, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
    }

    // --- the services ---

    /** Counts calls, records API keys and applies the API-key rule and {@link #failNextCalls} to every RPC. */
    private final class CallGate implements ServerInterceptor {
        @Override
        public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
                                                           ServerCallHandler<Q, R> next) {
            calls.incrementAndGet();
            String apiKey = headers.get(API_KEY);
            Status refusal = null;
            synchronized (FakeQdrant.this) {
                if (apiKey != null) {
                    apiKeysSeen.add(apiKey);
                }
                if (requiredApiKey != null && !requiredApiKey.equals(apiKey)) {
                    refusal = Status.UNAUTHENTICATED.withDescription("Invalid api-key");
                } else if (failNextCallsCount > 0) {
                    failNextCallsCount--;
                    refusal = failNextCallsStatus;
                }
            }
            if (refusal != null) {
                call.close(refusal, new Metadata());
                return new ServerCall.Listener<>() {
                };
            }
            return next.startCall(call, headers);
        }
    }

    private final class HealthService extends QdrantGrpc.QdrantImplBase {
        @Override
        public void healthCheck(HealthCheckRequest request, StreamObserver<HealthCheckReply> response) {
            response.onNext(HealthCheckReply.newBuilder().setTitle("fake qdrant").setVersion(VERSION).build());
            response.onCompleted();
        }
    }

    private final class CollectionsService extends CollectionsGrpc.CollectionsImplBase {
        @Override
        public void collectionExists(CollectionExistsRequest request,
                                     StreamObserver<CollectionExistsResponse> response) {
            boolean exists;
            synchronized (FakeQdrant.this) {
                exists = collections.containsKey(request.getCollectionName());
            }
            response.onNext(CollectionExistsResponse.newBuilder()
                    .setResult(CollectionExists.newBuilder().setExists(exists)).build());
            response.onCompleted();
        }

        @Override
        public void create(CreateCollection request, StreamObserver<CollectionOperationResponse> response) {
            String name = request.getCollectionName();
            if (!request.getVectorsConfig().hasParams()) {
                response.onError(Status.INVALID_ARGUMENT
                        .withDescription("fake Qdrant supports one unnamed dense vector per point").asException());
                return;
            }
            VectorParams params = request.getVectorsConfig().getParams();
            synchronized (FakeQdrant.this) {
                if (collections.containsKey(name)) {
                    response.onError(Status.ALREADY_EXISTS
                            .withDescription("Wrong input: Collection `" + name + "` already exists!").asException());
                    return;
                }
                collections.put(name, new CollectionState(name, params.getSize(), params.getDistance(),
                        new LinkedHashMap<>(), new LinkedHashMap<>()));
            }
            response.onNext(CollectionOperationResponse.newBuilder().setResult(true).build());
            response.onCompleted();
        }

        @Override
        public void get(GetCollectionInfoRequest request, StreamObserver<GetCollectionInfoResponse> response) {
            CollectionInfo.Builder info = CollectionInfo.newBuilder();
            synchronized (FakeQdrant.this) {
                CollectionState state = collections.get(request.getCollectionName());
                if (state == null) {
                    response.onError(notFound(request.getCollectionName()));
                    return;
                }
                info.setStatus(CollectionStatus.Green)
                        .setPointsCount(state.points().size())
                        .setConfig(CollectionConfig.newBuilder().setParams(CollectionParams.newBuilder()
                                .setShardNumber(1)
                                .setVectorsConfig(VectorsConfig.newBuilder().setParams(VectorParams.newBuilder()
                                        .setSize(state.vectorSize()).setDistance(state.distance())))));
                state.payloadIndexes().forEach((field, type) ->
                        info.putPayloadSchema(field, PayloadSchemaInfo.newBuilder().setDataType(type).build()));
            }
            response.onNext(GetCollectionInfoResponse.newBuilder().setResult(info).build());
            response.onCompleted();
        }
    }

    private final class PointsService extends PointsGrpc.PointsImplBase {
        @Override
        public void upsert(UpsertPoints request, StreamObserver<PointsOperationResponse> response) {
            upsertCalls.incrementAndGet();
            Duration delay;
            synchronized (FakeQdrant.this) {
                delay = upsertDelay;
            }
            if (!delay.isZero()) {
                try {
                    Thread.sleep(delay.toMillis()); // models a slow server; the client's deadline cancels the call
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
            }
            UpdateStatus answer;
            synchronized (FakeQdrant.this) {
                CollectionState state = collections.get(request.getCollectionName());
                if (state == null) {
                    response.onError(notFound(request.getCollectionName()));
                    return;
                }
                if (failNextUpsertsCount > 0) {
                    failNextUpsertsCount--;
                    response.onError(failNextUpsertsStatus.asException());
                    return;
                }
                List<StoredPoint> accepted = new ArrayList<>();
                for (PointStruct point : request.getPointsList()) {
                    UUID id = uuidOf(point.getId());
                    if (id == null) {
                        response.onError(Status.INVALID_ARGUMENT
                                .withDescription("fake Qdrant supports UUID point ids only").asException());
                        return;
                    }
                    Status fault = upsertFaultsByPoint.get(id);
                    if (fault != null) {
                        response.onError(fault.asException());
                        return;
                    }
                    if (!point.getVectors().hasVector()) {
                        response.onError(Status.INVALID_ARGUMENT
                                .withDescription("fake Qdrant supports one unnamed dense vector per point")
                                .asException());
                        return;
                    }
                    // Clients send either the dense oneof or the deprecated flat data field; Qdrant takes both
                    var vector = point.getVectors().getVector();
                    @SuppressWarnings("deprecation") // the flat field is what the fake must still accept
                    List<Float> data = vector.hasDense() ? vector.getDense().getDataList() : vector.getDataList();
                    if (data.size() != state.vectorSize()) {
                        response.onError(Status.INVALID_ARGUMENT.withDescription("Wrong input: Vector dimension "
                                + "error: expected dim: " + state.vectorSize() + ", got " + data.size()).asException());
                        return;
                    }
                    accepted.add(new StoredPoint(id, toArray(data), Map.copyOf(point.getPayloadMap())));
                }
                accepted.forEach(p -> state.points().put(p.id(), p));
                answer = request.getWait() ? upsertAnswer : UpdateStatus.Acknowledged;
            }
            response.onNext(PointsOperationResponse.newBuilder()
                    .setResult(UpdateResult.newBuilder().setOperationId(upsertCalls.get()).setStatus(answer))
                    .build());
            response.onCompleted();
        }

        /** Deletion by point ids (the selector {@code QdrantEmbeddingStore} sends); a filter is refused. */
        @Override
        public void delete(DeletePoints request, StreamObserver<PointsOperationResponse> response) {
            synchronized (FakeQdrant.this) {
                CollectionState state = collections.get(request.getCollectionName());
                if (state == null) {
                    response.onError(notFound(request.getCollectionName()));
                    return;
                }
                if (!request.getPoints().hasPoints()) {
                    response.onError(Status.INVALID_ARGUMENT
                            .withDescription("fake Qdrant deletes by point ids only").asException());
                    return;
                }
                for (PointId id : request.getPoints().getPoints().getIdsList()) {
                    state.points().remove(uuidOf(id));
                }
            }
            response.onNext(PointsOperationResponse.newBuilder().setResult(UpdateResult.newBuilder()
                    .setOperationId(calls.get()).setStatus(UpdateStatus.Completed)).build());
            response.onCompleted();
        }

        @Override
        public void get(GetPoints request, StreamObserver<GetResponse> response) {
            GetResponse.Builder result = GetResponse.newBuilder();
            boolean withPayload = !request.hasWithPayload() || request.getWithPayload().getEnable();
            boolean withVectors = request.hasWithVectors() && request.getWithVectors().getEnable();
            synchronized (FakeQdrant.this) {
                CollectionState state = collections.get(request.getCollectionName());
                if (state == null) {
                    response.onError(notFound(request.getCollectionName()));
                    return;
                }
                for (PointId id : request.getIdsList()) {
                    StoredPoint point = state.points().get(uuidOf(id));
                    if (point == null) {
                        continue;
                    }
                    RetrievedPoint.Builder retrieved = RetrievedPoint.newBuilder().setId(id);
                    if (withPayload) {
                        retrieved.putAllPayload(point.payload());
                    }
                    if (withVectors) {
                        retrieved.setVectors(vectorsOutput(point.vector()));
                    }
                    result.addResult(retrieved);
                }
            }
            response.onNext(result.build());
            response.onCompleted();
        }

        @Override
        public void search(SearchPoints request, StreamObserver<SearchResponse> response) {
            float[] query = toArray(request.getVectorList());
            boolean withPayload = request.hasWithPayload() && request.getWithPayload().getEnable();
            List<ScoredPoint> hits = nearest(request.getCollectionName(), query, request.getLimit(), withPayload,
                    response);
            if (hits != null) {
                response.onNext(SearchResponse.newBuilder().addAllResult(hits).build());
                response.onCompleted();
            }
        }

        @Override
        public void query(QueryPoints request, StreamObserver<QueryResponse> response) {
            if (!request.getQuery().hasNearest() || !request.getQuery().getNearest().hasDense()) {
                response.onError(Status.UNIMPLEMENTED
                        .withDescription("fake Qdrant answers nearest(dense vector) queries only").asException());
                return;
            }
            float[] query = toArray(request.getQuery().getNearest().getDense().getDataList());
            long limit = request.hasLimit() ? request.getLimit() : 10;
            boolean withPayload = request.hasWithPayload() && request.getWithPayload().getEnable();
            if (request.hasFilter() && !supported(request.getFilter())) {
                response.onError(Status.UNIMPLEMENTED.withDescription("fake Qdrant filters on must/should of "
                        + "keyword matches and is_empty only: " + request.getFilter()).asException());
                return;
            }
            io.qdrant.client.grpc.Common.Filter filter = request.hasFilter() ? request.getFilter() : null;
            List<ScoredPoint> hits = nearest(request.getCollectionName(), query, limit, withPayload, filter,
                    response);
            if (hits != null) {
                response.onNext(QueryResponse.newBuilder().addAllResult(hits).build());
                response.onCompleted();
            }
        }

        @Override
        public void createFieldIndex(CreateFieldIndexCollection request,
                                     StreamObserver<PointsOperationResponse> response) {
            synchronized (FakeQdrant.this) {
                CollectionState state = collections.get(request.getCollectionName());
                if (state == null) {
                    response.onError(notFound(request.getCollectionName()));
                    return;
                }
                state.payloadIndexes().put(request.getFieldName(), schemaTypeOf(request.getFieldType()));
            }
            response.onNext(PointsOperationResponse.newBuilder()
                    .setResult(UpdateResult.newBuilder().setStatus(request.getWait()
                            ? UpdateStatus.Completed : UpdateStatus.Acknowledged))
                    .build());
            response.onCompleted();
        }

        private List<ScoredPoint> nearest(String collection, float[] query, long limit, boolean withPayload,
                                          StreamObserver<?> response) {
            return nearest(collection, query, limit, withPayload, null, response);
        }

        /** Cosine similarity, best first, of the points {@code filter} admits (all if null); null after an error. */
        private List<ScoredPoint> nearest(String collection, float[] query, long limit, boolean withPayload,
                                          io.qdrant.client.grpc.Common.Filter filter, StreamObserver<?> response) {
            List<ScoredPoint> hits = new ArrayList<>();
            synchronized (FakeQdrant.this) {
                CollectionState state = collections.get(collection);
                if (state == null) {
                    response.onError(notFound(collection));
                    return null;
                }
                if (query.length != state.vectorSize()) {
                    response.onError(Status.INVALID_ARGUMENT.withDescription("Wrong input: Vector dimension error: "
                            + "expected dim: " + state.vectorSize() + ", got " + query.length).asException());
                    return null;
                }
                for (StoredPoint point : state.points().values()) {
                    if (filter != null && !admits(filter, point.payload())) {
                        continue;
                    }
                    ScoredPoint.Builder hit = ScoredPoint.newBuilder()
                            .setId(PointId.newBuilder().setUuid(point.id().toString()))
                            .setScore((float) cosine(query, point.vector()));
                    if (withPayload) {
                        hit.putAllPayload(point.payload());
                    }
                    hits.add(hit.build());
                }
            }
            hits.sort(Comparator.comparingDouble(ScoredPoint::getScore).reversed());
            return hits.subList(0, (int) Math.min(limit, hits.size()));
        }
    }

    // --- helpers ---

    /** Qdrant's filter semantics for what the fake supports: every must holds, and one should if any is given. */
    private static boolean admits(io.qdrant.client.grpc.Common.Filter filter, Map<String, Value> payload) {
        boolean must = filter.getMustList().stream().allMatch(c -> holds(c, payload));
        boolean should = filter.getShouldCount() == 0
                || filter.getShouldList().stream().anyMatch(c -> holds(c, payload));
        return must && should;
    }

    private static boolean holds(io.qdrant.client.grpc.Common.Condition condition, Map<String, Value> payload) {
        if (condition.hasIsEmpty()) {
            Value value = payload.get(condition.getIsEmpty().getKey());
            return value == null || value.hasNullValue()
                    || (value.hasListValue() && value.getListValue().getValuesCount() == 0);
        }
        var field = condition.getField();
        Value value = payload.get(field.getKey());
        return value != null && value.hasStringValue() && value.getStringValue().equals(field.getMatch().getKeyword());
    }

    private static boolean supported(io.qdrant.client.grpc.Common.Filter filter) {
        return filter.getMustNotCount() == 0 && !filter.hasMinShould()
                && java.util.stream.Stream.concat(filter.getMustList().stream(), filter.getShouldList().stream())
                        .allMatch(c -> c.hasIsEmpty() || (c.hasField() && c.getField().hasMatch()
                                && c.getField().getMatch().hasKeyword()));
    }

    private static io.grpc.StatusException notFound(String collection) {
        return Status.NOT_FOUND.withDescription("Not found: Collection `" + collection + "` doesn't exist!")
                .asException();
    }

    private static UUID uuidOf(PointId id) {
        if (!id.hasUuid()) {
            return null;
        }
        try {
            return UUID.fromString(id.getUuid());
        } catch (IllegalArgumentException e) {
            return null;
        }
    }

    private static PayloadSchemaType schemaTypeOf(FieldType type) {
        return switch (type) {
            case FieldTypeKeyword -> PayloadSchemaType.Keyword;
            case FieldTypeInteger -> PayloadSchemaType.Integer;
            case FieldTypeFloat -> PayloadSchemaType.Float;
            case FieldTypeGeo -> PayloadSchemaType.Geo;
            case FieldTypeText -> PayloadSchemaType.Text;
            case FieldTypeBool -> PayloadSchemaType.Bool;
            case FieldTypeDatetime -> PayloadSchemaType.Datetime;
            case FieldTypeUuid -> PayloadSchemaType.Uuid;
            default -> PayloadSchemaType.UnknownType;
        };
    }

    private static VectorsOutput vectorsOutput(float[] vector) {
        DenseVector.Builder dense = DenseVector.newBuilder();
        for (float v : vector) {
            dense.addData(v);
        }
        return VectorsOutput.newBuilder().setVector(VectorOutput.newBuilder().setDense(dense)).build();
    }

    private static float[] toArray(List<Float> values) {
        float[] array = new float[values.size()];
        for (int i = 0; i < array.length; i++) {
            array[i] = values.get(i);
        }
        return array;
    }

    private static double cosine(float[] a, float[] b) {
        double dot = 0;
        double normA = 0;
        double normB = 0;
        for (int i = 0; i < a.length; i++) {
            dot += (double) a[i] * b[i];
            normA += (double) a[i] * a[i];
            normB += (double) b[i] * b[i];
        }
        return normA == 0 || normB == 0 ? 0 : dot / Math.sqrt(normA * normB);
    }

    private static CollectionState copyOf(CollectionState state) {
        return new CollectionState(state.name(), state.vectorSize(), state.distance(),
                Map.copyOf(state.payloadIndexes()), Map.copyOf(state.points()));
    }
}
