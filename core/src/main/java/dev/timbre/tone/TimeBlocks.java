package dev.timbre.tone;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits the time axis of the conv stack into blocks so that a long recording never holds its whole
 * spectrogram and conv activations at once.
 *
 * <p>Each conv is 3×3, stride 2, padding 1, so output row {@code o} of layer k reads rows
 * {@code 2o−1, 2o, 2o+1} of layer k−1 (zeros outside {@code [0, n_{k−1})}). A block that produces outputs
 * {@code [a, b)} of layer k feeds the conv rows {@code [max(0, 2a−2), min(n_{k−1}, 2b))} of layer k−1 and keeps
 * the conv's own padding of 1: starting on an even row keeps the stride aligned with the whole-file conv, and the
 * one extra output this gives at the top (it saw a padding zero instead of row {@code 2a−3}) is cropped. At the
 * true edges of the recording the padding zeros are exactly the whole-file conv's. A block covering the whole
 * recording is therefore the whole-file conv itself, and other blocks compute the same sums from the same rows;
 * only about 2 halo rows per layer per block are computed twice. Keeping padding 1 (instead of explicit zero rows
 * and time padding 0) matters for speed: libtorch's CPU conv was 2–5× slower with time padding 0 here.
 *
 * <p>Immutable; thread-safe.
 */
final class TimeBlocks {
    /** Conv layers of the reference encoder; index 0 of the arrays below is the spectrogram. */
    static final int LAYERS = ToneColorWeights.CONV_LAYERS;

    private final int[] lengths;

    /** @param frames spectrogram frames T */
    TimeBlocks(int frames) {
        if (frames < 1) {
            throw new IllegalArgumentException("no frames");
        }
        lengths = new int[LAYERS + 1];
        lengths[0] = frames;
        for (int k = 1; k <= LAYERS; k++) {
            lengths[k] = (lengths[k - 1] - 1) / 2 + 1; // floor((n + 2 - 3) / 2) + 1
        }
    }

    /** Rows of layer k ({@code 0} = spectrogram frames, {@code LAYERS} = final conv output, T'). */
    int length(int layer) {
        return lengths[layer];
    }

    /**
     * The rows every layer must produce for final outputs {@code [first, end)}.
     *
     * @return {@code ranges[k] = {start, end}} for k = 0..LAYERS
     */
    int[][] rangesFor(int first, int end) {
        return rangesFor(LAYERS, first, end);
    }

    /**
     * The rows every layer up to {@code top} must produce for rows {@code [first, end)} of layer {@code top}
     * (same rule as {@link #rangesFor(int, int)}, which is this with {@code top = LAYERS}).
     *
     * @return {@code ranges[k] = {start, end}} for k = 0..top
     */
    int[][] rangesFor(int top, int first, int end) {
        if (top < 1 || top > LAYERS) {
            throw new IllegalArgumentException("layer " + top + " is not a conv layer 1.." + LAYERS);
        }
        int[][] ranges = new int[top + 1][];
        ranges[top] = new int[] {first, end};
        for (int k = top; k >= 1; k--) {
            int[] above = ranges[k];
            ranges[k - 1] = new int[] {Math.max(0, 2 * above[0] - 2), Math.min(lengths[k - 1], 2 * above[1])};
        }
        return ranges;
    }

    /** Leading outputs of conv k to drop: 1 when the block starts inside the recording (see class comment). */
    static int croppedAtTop(int[][] ranges, int layer) {
        return ranges[layer][0] > 0 ? 1 : 0;
    }

    /**
     * Final-output blocks covering {@code [0, T')}: {@code blockOutputs} rows each, except that a short
     * remainder joins the last block (so blocks hold between {@code blockOutputs} and
     * {@code 2·blockOutputs − 1} rows, or all of T' when shorter). A one- or two-row conv input would make
     * libtorch pick a different conv kernel, with results that differ in the last bit.
     */
    List<int[]> blocks(int blockOutputs) {
        if (blockOutputs < 1) {
            throw new IllegalArgumentException("blockOutputs must be at least 1, was " + blockOutputs);
        }
        int total = lengths[LAYERS];
        List<int[]> blocks = new ArrayList<>();
        int a = 0;
        while (a < total) {
            int end = total - a < 2L * blockOutputs ? total : a + blockOutputs;
            blocks.add(new int[] {a, end});
            a = end;
        }
        return blocks;
    }
}
