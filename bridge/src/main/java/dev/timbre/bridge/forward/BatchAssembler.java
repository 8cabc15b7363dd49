package dev.timbre.bridge.forward;

import java.util.ArrayList;
import java.util.List;

/**
 * Groups entries into batches per lane: a batch closes when it holds 10 entries, when the next entry would take it
 * past 1 MiB, or when its linger deadline passes.
 *
 * <p>Not thread-safe: one batcher thread owns it. Pure bookkeeping, no I/O, so the batch rules are tested alone.
 */
public final class BatchAssembler {

    private final long lingerNanos;
    private final OpenBatch[] open;

    /**
     * @param lanes number of lanes (1 for a standard queue)
     * @param lingerNanos how long the first entry of a batch waits for company
     */
    public BatchAssembler(int lanes, long lingerNanos) {
        if (lanes < 1) {
            throw new IllegalArgumentException("lanes must be >= 1, got " + lanes);
        }
        this.lingerNanos = Math.max(0, lingerNanos);
        this.open = new OpenBatch[lanes];
    }

    /**
     * Adds an entry and returns the batches that are now complete (zero, one or two: the lane's previous batch when
     * this entry did not fit, and this entry's batch when it became full).
     *
     * @throws IllegalArgumentException if the entry alone exceeds 1 MiB (the mapper rejects those earlier)
     */
    public List<OutboundBatch> add(OutboundEntry entry, long nowNanos) {
        if (entry.sizeBytes() > OutboundBatch.MAX_BYTES) {
            throw new IllegalArgumentException("entry of " + entry.sizeBytes() + " bytes exceeds " + OutboundBatch.MAX_BYTES);
        }
        List<OutboundBatch> ready = new ArrayList<>(2);
        int lane = entry.lane();
        OpenBatch batch = open[lane];
        if (batch != null && batch.bytes + entry.sizeBytes() > OutboundBatch.MAX_BYTES) {
            ready.add(close(lane));
            batch = null;
        }
        if (batch == null) {
            batch = new OpenBatch(nowNanos + lingerNanos);
            open[lane] = batch;
        }
        batch.entries.add(entry);
        batch.bytes += entry.sizeBytes();
        if (batch.entries.size() == OutboundBatch.MAX_ENTRIES) {
            ready.add(close(lane));
        }
        return ready;
    }

    /** Closes and returns every batch whose deadline is at or before {@code nowNanos}. */
    public List<OutboundBatch> expired(long nowNanos) {
        List<OutboundBatch> ready = new ArrayList<>();
        for (int lane = 0; lane < open.length; lane++) {
            if (open[lane] != null && open[lane].deadlineNanos - nowNanos <= 0) {
                ready.add(close(lane));
            }
        }
        return ready;
    }

    /** Closes and returns every open batch (shutdown). */
    public List<OutboundBatch> flushAll() {
        List<OutboundBatch> ready = new ArrayList<>();
        for (int lane = 0; lane < open.length; lane++) {
            if (open[lane] != null) {
                ready.add(close(lane));
            }
        }
        return ready;
    }

    /** Nanoseconds from {@code nowNanos} to the earliest deadline, or -1 when nothing is open. */
    public long nanosToNextDeadline(long nowNanos) {
        long best = -1;
        for (OpenBatch b : open) {
            if (b != null) {
                long left = Math.max(0, b.deadlineNanos - nowNanos);
                best = best < 0 ? left : Math.min(best, left);
            }
        }
        return best;
    }

    private OutboundBatch close(int lane) {
        OpenBatch b = open[lane];
        open[lane] = null;
        return new OutboundBatch(lane, b.entries);
    }

    private static final class OpenBatch {
        final long deadlineNanos;
        final List<OutboundEntry> entries = new ArrayList<>(OutboundBatch.MAX_ENTRIES);
        int bytes;

        OpenBatch(long deadlineNanos) {
            this.deadlineNanos = deadlineNanos;
        }
    }
}
