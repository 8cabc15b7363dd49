package dev.timbre.store;

import dev.timbre.job.TransientJobException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Consumer;
import java.util.function.Predicate;

/**
 * Writes that arrive while another write is in flight go out together, in one call (a group commit).
 *
 * <p>The first caller writes at once, alone. Callers that arrive while it waits for the server queue up; when its
 * write returns, one of them writes everything queued (up to {@code maxGroup} items) in one call, and so on. No
 * caller waits for a timer or for a batch to fill, so a lone worker thread pays nothing for this; under concurrency
 * (a Lambda batch's jobs on several threads, the ECS pool) the server sees fewer, larger writes instead of one round
 * trip per job.
 *
 * <p>Each caller still gets its own outcome, and {@link #write} returns only once its item is written. When a write
 * of several items fails, each of them is written again alone by its own caller, so an item the server refuses
 * fails only its own job; unless the failure is one the whole group shares (a timeout, which a write of one item
 * would only repeat): then every caller in the group fails with it. A write of one item fails its caller with
 * that write's exception.
 *
 * <p>Thread-safe.
 *
 * @param <T> what one caller writes
 */
final class GroupCommit<T> {

    private final Consumer<List<T>> writeAll;
    private final Predicate<RuntimeException> sharedByTheGroup;
    private final int maxGroup;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition written = lock.newCondition();
    private final ArrayDeque<Pending<T>> queue = new ArrayDeque<>();
    private boolean writing;

    /** One caller's item; its fields are guarded by the lock. */
    private static final class Pending<T> {
        final T item;
        boolean finished;
        /** Its group's write failed: the caller writes it again, alone. */
        boolean alone;
        RuntimeException failure;

        Pending(T item) {
            this.item = item;
        }
    }

    /**
     * @param writeAll         writes its items in one call and returns once they are applied, or throws
     * @param sharedByTheGroup whether a failed group's failure is every member's (no member is written again)
     * @param maxGroup         the most items one call carries
     */
    GroupCommit(Consumer<List<T>> writeAll, Predicate<RuntimeException> sharedByTheGroup, int maxGroup) {
        this.writeAll = Objects.requireNonNull(writeAll, "writeAll");
        this.sharedByTheGroup = Objects.requireNonNull(sharedByTheGroup, "sharedByTheGroup");
        if (maxGroup < 1) {
            throw new IllegalArgumentException("maxGroup must be at least 1, was " + maxGroup);
        }
        this.maxGroup = maxGroup;
    }

    /**
     * Writes {@code item}, alone or with the items of callers waiting at the same time, and returns once it is
     * applied.
     *
     * @throws RuntimeException          what the write of this item threw
     * @throws TransientJobException     when the thread is interrupted while its item waits in the queue (it is then
     *                                   not written)
     */
    void write(T item) {
        Pending<T> mine = new Pending<>(Objects.requireNonNull(item, "item"));
        boolean interrupted = false;
        lock.lock();
        try {
            queue.add(mine);
            while (!mine.finished) {
                if (!writing) {
                    writeGroup(drainGroup());
                } else if (interrupted) {
                    written.awaitUninterruptibly();
                } else {
                    try {
                        written.await();
                    } catch (InterruptedException e) {
                        if (queue.remove(mine)) {
                            Thread.currentThread().interrupt();
                            throw new TransientJobException("interrupted while waiting to write", e);
                        }
                        // already in the write in flight: its outcome is a moment away, and the job's to report
                        interrupted = true;
                    }
                }
            }
        } finally {
            lock.unlock();
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
        if (mine.alone) {
            writeAll.accept(List.of(item));
        } else if (mine.failure != null) {
            throw mine.failure;
        }
    }

    private List<Pending<T>> drainGroup() {
        List<Pending<T>> group = new ArrayList<>(Math.min(queue.size(), maxGroup));
        while (!queue.isEmpty() && group.size() < maxGroup) {
            group.add(queue.poll());
        }
        return group;
    }

    /** Writes a group with the lock released; on return, with the lock held again, every member is finished. */
    private void writeGroup(List<Pending<T>> group) {
        writing = true;
        boolean applied = false;
        RuntimeException failure = null;
        lock.unlock();
        try {
            List<T> items = new ArrayList<>(group.size());
            for (Pending<T> pending : group) {
                items.add(pending.item);
            }
            writeAll.accept(items);
            applied = true;
        } catch (RuntimeException e) {
            failure = e;
        } finally {
            lock.lock();
            for (Pending<T> pending : group) {
                pending.finished = true;
                if (failure != null && (group.size() == 1 || sharedByTheGroup.test(failure))) {
                    pending.failure = failure;
                } else if (!applied) {
                    // a group's failure (or an Error unwinding this thread): each member writes itself again
                    pending.alone = true;
                }
            }
            writing = false;
            written.signalAll();
        }
    }
}
