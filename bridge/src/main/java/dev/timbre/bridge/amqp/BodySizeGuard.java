package dev.timbre.bridge.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.WriteListener;
import com.rabbitmq.client.impl.AMQConnection;
import com.rabbitmq.client.impl.AMQImpl;
import com.rabbitmq.client.impl.Frame;
import com.rabbitmq.client.impl.FrameHandler;
import com.rabbitmq.client.impl.FrameHandlerFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * Keeps message bodies above a bound out of the bridge's memory, without closing the connection.
 *
 * <p>Why not only {@code ConnectionFactory.setMaxInboundMessageBodySize}: a delivery above that limit makes the
 * client throw in its reader thread and close the whole connection; automatic recovery reconnects, the broker
 * redelivers the same message, and the bridge loops on it for ever (while every other unacked delivery is
 * redelivered each time). Here the frames are screened as they are read: a {@code basic.deliver} whose content
 * header announces more than {@code maxBodyBytes} is passed on with a body size of 0, its body frames (each at most
 * {@code frame_max}, 128 KiB by default) are read and dropped, and its properties get a header whose name holds a
 * random per-process nonce (so no publisher can forge it) with the announced size. The consumer then gets an
 * empty body, asks {@link #withheldBodySize}, and settles the message without ever holding it: memory per delivery
 * stays at most {@code maxBodyBytes} whatever the broker's maximum message size. The mark travels with the
 * delivery rather than in a table keyed by delivery tag, because after a recovery the client offsets the tags the
 * application sees from those on the wire.
 *
 * <p>Only the blocking socket frame handler (the client's default) reads frames through {@link FrameHandler#readFrame},
 * so the bridge must not switch the factory to NIO or Netty.
 *
 * <p>Thread-safety: each connection's frames are read by its one reader thread, which owns the per-handler state;
 * {@link #withheldBodySize} is pure.
 */
final class BodySizeGuard {

    private static final int BASIC_CLASS = 60;
    private static final int BASIC_DELIVER = 60;

    private final long maxBodyBytes;
    private final String markHeader = "x-timbre-withheld-body-bytes-" + UUID.randomUUID();

    BodySizeGuard(long maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
    }

    long maxBodyBytes() {
        return maxBodyBytes;
    }

    /** Wraps every frame handler the client creates: the first connection and each one recovery makes. */
    FrameHandlerFactory wrap(FrameHandlerFactory real) {
        return (address, connectionName) -> new ScreeningFrameHandler(real.create(address, connectionName));
    }

    /** The announced body size of a delivery whose body was dropped unread, or -1 for an ordinary delivery. */
    long withheldBodySize(AMQP.BasicProperties properties) {
        Map<String, Object> headers = properties.getHeaders();
        return headers != null && headers.get(markHeader) instanceof Long size ? size : -1;
    }

    private final class ScreeningFrameHandler implements FrameHandler {
        private final FrameHandler delegate;
        // Owned by the connection's reader thread.
        private final Set<Integer> deliverAwaitingHeader = new HashSet<>();
        private final Map<Integer, Long> bodyBytesToDrop = new HashMap<>();

        ScreeningFrameHandler(FrameHandler delegate) {
            this.delegate = delegate;
        }

        @Override
        public Frame readFrame() throws IOException {
            while (true) {
                Frame frame = delegate.readFrame();
                if (frame == null) {
                    return null; // a read timeout: the connection counts it towards missed heartbeats
                }
                int channel = frame.getChannel();
                switch (frame.getType()) {
                    case AMQP.FRAME_METHOD -> {
                        if (isDeliver(frame.getPayload())) {
                            deliverAwaitingHeader.add(channel);
                        } else {
                            deliverAwaitingHeader.remove(channel);
                        }
                        return frame;
                    }
                    case AMQP.FRAME_HEADER -> {
                        boolean delivery = deliverAwaitingHeader.remove(channel);
                        long bodySize = ByteBuffer.wrap(frame.getPayload(), 4, 8).getLong(); // after class, weight
                        if (!delivery || bodySize <= maxBodyBytes) {
                            return frame;
                        }
                        bodyBytesToDrop.put(channel, bodySize);
                        AMQP.BasicProperties props = (AMQP.BasicProperties) AMQImpl.readContentHeaderFrom(
                                frame.getInputStream());
                        Map<String, Object> headers = new HashMap<>(
                                props.getHeaders() == null ? Map.of() : props.getHeaders());
                        headers.put(markHeader, bodySize);
                        return props.builder().headers(headers).build().toFrame(channel, 0L); // no body follows
                    }
                    case AMQP.FRAME_BODY -> {
                        Long left = bodyBytesToDrop.get(channel);
                        if (left == null) {
                            return frame;
                        }
                        long rest = left - frame.getPayload().length;
                        if (rest <= 0) {
                            bodyBytesToDrop.remove(channel);
                        } else {
                            bodyBytesToDrop.put(channel, rest);
                        }
                        // dropped: read the next frame
                    }
                    default -> {
                        return frame;
                    }
                }
            }
        }

        /** A method frame starts with its class and method ids. */
        private static boolean isDeliver(byte[] payload) {
            ByteBuffer b = ByteBuffer.wrap(payload);
            return payload.length >= 4 && b.getShort() == BASIC_CLASS && b.getShort() == BASIC_DELIVER;
        }

        @Override
        public boolean internalHearbeat() {
            return delegate.internalHearbeat();
        }

        @Override
        public void setTimeout(int timeoutMs) throws SocketException {
            delegate.setTimeout(timeoutMs);
        }

        @Override
        public int getTimeout() throws SocketException {
            return delegate.getTimeout();
        }

        @Override
        public void sendHeader() throws IOException {
            delegate.sendHeader();
        }

        @Override
        public void initialize(AMQConnection connection) {
            delegate.initialize(connection);
        }

        @Override
        public void startProcessing() {
            delegate.startProcessing();
        }

        @Override
        public void finishConnectionNegotiation() {
            delegate.finishConnectionNegotiation();
        }

        @Override
        public void setFrameMax(int frameMax) {
            delegate.setFrameMax(frameMax);
        }

        @Override
        public void writeFrame(Frame frame) throws IOException {
            delegate.writeFrame(frame);
        }

        @Override
        public void flush(WriteListener listener) throws IOException {
            delegate.flush(listener);
        }

        @Override
        public void close() {
            delegate.close();
        }

        @Override
        public InetAddress getLocalAddress() {
            return delegate.getLocalAddress();
        }

        @Override
        public int getLocalPort() {
            return delegate.getLocalPort();
        }

        @Override
        public InetAddress getAddress() {
            return delegate.getAddress();
        }

        @Override
        public int getPort() {
            return delegate.getPort();
        }
    }
}
