package dev.timbre.bridge.amqp;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.WriteListener;
import com.rabbitmq.client.impl.AMQConnection;
import com.rabbitmq.client.impl.Frame;
import com.rabbitmq.client.impl.FrameHandler;
import com.rabbitmq.client.impl.FrameHandlerFactory;
import java.io.IOException;
import java.net.InetAddress;
import java.net.SocketException;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Keeps message bodies above a bound out of the bridge's memory, without closing the connection.
 *
 * <p>Why not only {@code ConnectionFactory.setMaxInboundMessageBodySize}: a delivery above that limit makes the
 * client throw in its reader thread and close the whole connection; automatic recovery reconnects, the broker
 * redelivers the same message, and the bridge loops on it for ever (while every other unacked delivery is
 * redelivered each time). Here the frames are screened as they are read: a {@code basic.deliver} whose content
 * header announces more than {@code maxBodyBytes} is passed on with a body size of 0, its body frames (each at most
 * {@code frame_max}, 128 KiB by default) are read and dropped, and its channel and delivery tag are remembered. The
 * consumer then gets an empty body, asks {@link #withheldBodySize}, and settles the message without ever holding
 * it: memory per delivery stays at most {@code maxBodyBytes} whatever the broker's maximum message size.
 *
 * <p>Only the blocking socket frame handler (the client's default) reads frames through {@link FrameHandler#readFrame},
 * so the bridge must not switch the factory to NIO or Netty.
 *
 * <p>Thread-safety: each connection's frames are read by its one reader thread, which owns the per-handler state;
 * the registry of withheld deliveries is concurrent (the consumer thread takes from it).
 */
final class BodySizeGuard {

    private static final int BASIC_CLASS = 60;
    private static final int BASIC_DELIVER = 60;

    private record DeliveryKey(int channel, long deliveryTag) {
    }

    private final long maxBodyBytes;
    private final Map<DeliveryKey, Long> withheld = new ConcurrentHashMap<>();

    BodySizeGuard(long maxBodyBytes) {
        this.maxBodyBytes = maxBodyBytes;
    }

    long maxBodyBytes() {
        return maxBodyBytes;
    }

    /** Wraps every frame handler the client creates: the first connection and each one recovery makes. */
    FrameHandlerFactory wrap(FrameHandlerFactory real) {
        return (address, connectionName) -> {
            // A new connection: delivery tags of the old one mean nothing any more (they restart at 1).
            withheld.clear();
            return new ScreeningFrameHandler(real.create(address, connectionName));
        };
    }

    /**
     * The announced body size of a delivery whose body was dropped unread, or -1 for an ordinary delivery. Each
     * withheld delivery is reported once.
     */
    long withheldBodySize(int channel, long deliveryTag) {
        Long size = withheld.remove(new DeliveryKey(channel, deliveryTag));
        return size == null ? -1 : size;
    }

    private final class ScreeningFrameHandler implements FrameHandler {
        private final FrameHandler delegate;
        // Owned by the connection's reader thread.
        private final Map<Integer, Long> deliverAwaitingHeader = new HashMap<>();
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
                        long tag = deliveryTagIfDeliver(frame.getPayload());
                        if (tag >= 0) {
                            deliverAwaitingHeader.put(channel, tag);
                        } else {
                            deliverAwaitingHeader.remove(channel);
                        }
                        return frame;
                    }
                    case AMQP.FRAME_HEADER -> {
                        Long tag = deliverAwaitingHeader.remove(channel);
                        byte[] payload = frame.getPayload();
                        long bodySize = ByteBuffer.wrap(payload, 4, 8).getLong(); // after class id and weight
                        if (tag == null || bodySize <= maxBodyBytes) {
                            return frame;
                        }
                        withheld.put(new DeliveryKey(channel, tag), bodySize);
                        bodyBytesToDrop.put(channel, bodySize);
                        byte[] empty = payload.clone();
                        ByteBuffer.wrap(empty, 4, 8).putLong(0L); // same properties, no body follows
                        return new Frame(AMQP.FRAME_HEADER, channel, empty);
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

        /** basic.deliver: class, method, consumer-tag (short string), then the delivery tag; -1 for other methods. */
        private static long deliveryTagIfDeliver(byte[] payload) {
            if (payload.length < 5) {
                return -1;
            }
            ByteBuffer b = ByteBuffer.wrap(payload);
            if (b.getShort() != BASIC_CLASS || b.getShort() != BASIC_DELIVER) {
                return -1;
            }
            int consumerTagLength = b.get() & 0xFF;
            if (b.remaining() < consumerTagLength + 8) {
                return -1;
            }
            b.position(b.position() + consumerTagLength);
            return b.getLong();
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
