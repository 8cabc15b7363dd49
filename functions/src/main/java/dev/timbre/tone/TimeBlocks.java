package dev.timbre.tone;

import java.util.ArrayList;
import java.util.List;

/**
 * Splits the time axis of the conv stack into blocks so that a long recording never holds its whole
 * spectrogram and conv activations at once.
 *
 * <p>Each conv is 3×3, stride 2, padding 1, so output row {@code o} of layer k reads rows
 * {@code 2o−1, 2o, 2o+1} of layer k−1 (zeros outside {@code [0, n_{k−1})}). Final outputs {@code [a, b)}
 * therefore need rows {@code [max(0, 2a−1), min(n_{k−1}, 2b))} of the layer below, recursively down to
 * spectrogram frames. Computing each block from exactly those rows, with explicit zero rows only where the
 * whole-file conv has its zero padding, gives the same sums as the whole-file conv; only the neighbouring
 * block's halo rows are computed twice (about 2 rows per layer per block).
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
        int[][] ranges = new int[LAYERS + 1][];
        ranges[LAYERS] = new int[] {first, end};
        for (int k = LAYERS; k >= 1; k--) {
            int[] above = ranges[k];
            ranges[k - 1] = new int[] {Math.max(0, 2 * above[0] - 1), Math.min(lengths[k - 1], 2 * above[1])};
        }
        return ranges;
    }

    /** Zero row needed above layer k−1's rows: the block starts at the top edge. */
    static boolean zeroRowAbove(int[][] ranges, int layer) {
        return ranges[layer][0] == 0;
    }

    /** Zero row needed below layer k−1's rows: the last output reads past the bottom edge. */
    boolean zeroRowBelow(int[][] ranges, int layer) {
        return 2 * ranges[layer][1] - 1 >= lengths[layer - 1];
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
