package dev.timbre.pipeline;

import java.util.AbstractQueue;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The work queue of {@link WorkerPool}: one FIFO lane per batch (invocation), served round-robin. With Lambda
 * Managed Instances several invocations share one execution environment and so one pool; with a plain FIFO queue a
 * batch of 10,000 queued first would hold every thread until it drained and the next invocation would miss its
 * deadline. Here each free thread takes the next task of the next non-empty lane, so every concurrent batch gets
 * an equal share of the threads whatever its size. Tasks without a lane share one default lane.
 *
 * <p>Thread-safe (one lock). Unbounded, as the queue it replaces.
 */
final class FairLaneQueue extends AbstractQueue<Runnable> implements BlockingQueue<Runnable> {

    /** A task that belongs to a lane; the lane is any object compared by identity. */
    interface Laned extends Runnable {
        Object lane();
    }

    private static final Object DEFAULT_LANE = new Object();

    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notEmpty = lock.newCondition();
    // Insertion order is the rotation: the lane served last goes to the end.
    private final Map<Object, ArrayDeque<Runnable>> lanes = new LinkedHashMap<>();
    private int size;

    private static Object laneOf(Runnable r) {
        return r instanceof Laned l ? l.lane() : DEFAULT_LANE;
    }

    @Override
    public boolean offer(Runnable r) {
        if (r == null) {
            throw new NullPointerException();
        }
        lock.lock();
        try {
            lanes.computeIfAbsent(laneOf(r), k -> new ArrayDeque<>()).addLast(r);
            size++;
            notEmpty.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public void put(Runnable r) {
        offer(r);
    }

    @Override
    public boolean offer(Runnable r, long timeout, TimeUnit unit) {
        return offer(r);
    }

    /** Next task round-robin; the caller holds the lock and size is above 0. */
    private Runnable next() {
        Iterator<Map.Entry<Object, ArrayDeque<Runnable>>> it = lanes.entrySet().iterator();
        Map.Entry<Object, ArrayDeque<Runnable>> first = it.next();
        Runnable r = first.getValue().pollFirst();
        it.remove();
        if (!first.getValue().isEmpty()) {
            lanes.put(first.getKey(), first.getValue()); // back of the rotation
        }
        size--;
        return r;
    }

    @Override
    public Runnable poll() {
        lock.lock();
        try {
            return size == 0 ? null : next();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Runnable take() throws InterruptedException {
        lock.lockInterruptibly();
        try {
            while (size == 0) {
                notEmpty.await();
            }
            return next();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Runnable poll(long timeout, TimeUnit unit) throws InterruptedException {
        long nanos = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (size == 0) {
                if (nanos <= 0) {
                    return null;
                }
                nanos = notEmpty.awaitNanos(nanos);
            }
            return next();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public Runnable peek() {
        lock.lock();
        try {
            return size == 0 ? null : lanes.values().iterator().next().peekFirst();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public boolean remove(Object o) {
        lock.lock();
        try {
            for (Iterator<ArrayDeque<Runnable>> it = lanes.values().iterator(); it.hasNext(); ) {
                ArrayDeque<Runnable> lane = it.next();
                if (lane.removeFirstOccurrence(o)) {
                    size--;
                    if (lane.isEmpty()) {
                        it.remove();
                    }
                    return true;
                }
            }
            return false;
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int size() {
        lock.lock();
        try {
            return size;
        } finally {
            lock.unlock();
        }
    }

    /** Number of lanes with queued tasks. */
    int lanes() {
        lock.lock();
        try {
            return lanes.size();
        } finally {
            lock.unlock();
        }
    }

    @Override
    public int remainingCapacity() {
        return Integer.MAX_VALUE;
    }

    @Override
    public int drainTo(Collection<? super Runnable> c) {
        return drainTo(c, Integer.MAX_VALUE);
    }

    @Override
    public int drainTo(Collection<? super Runnable> c, int maxElements) {
        lock.lock();
        try {
            int n = 0;
            while (size > 0 && n < maxElements) {
                c.add(next());
                n++;
            }
            return n;
        } finally {
            lock.unlock();
        }
    }

    /** A snapshot in serving order is not cheap to define; this iterates lane by lane (read-only). */
    @Override
    public Iterator<Runnable> iterator() {
        lock.lock();
        try {
            List<Runnable> all = new ArrayList<>(size);
            lanes.values().forEach(all::addAll);
            return java.util.Collections.unmodifiableList(all).iterator();
        } finally {
            lock.unlock();
        }
    }
}
