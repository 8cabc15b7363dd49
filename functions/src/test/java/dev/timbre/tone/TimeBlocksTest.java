package dev.timbre.tone;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class TimeBlocksTest {

    @Test
    void layerLengthsFollowOpenVoiceCalculateChannels() {
        TimeBlocks tenSeconds = new TimeBlocks(861);
        int[] expected = {861, 431, 216, 108, 54, 27, 14};
        for (int k = 0; k <= TimeBlocks.LAYERS; k++) {
            assertEquals(expected[k], tenSeconds.length(k), "layer " + k);
        }
        assertEquals(2, new TimeBlocks(86).length(TimeBlocks.LAYERS));
        assertEquals(1, new TimeBlocks(1).length(TimeBlocks.LAYERS));
    }

    @Test
    void oneBlockCoversEveryLayerWhole() {
        TimeBlocks blocks = new TimeBlocks(861);
        int[][] ranges = blocks.rangesFor(0, 14);
        for (int k = 0; k <= TimeBlocks.LAYERS; k++) {
            assertArrayEquals(new int[] {0, blocks.length(k)}, ranges[k], "layer " + k);
        }
    }

    @Test
    void shortRemainderJoinsTheLastBlock() {
        List<int[]> blocks = new TimeBlocks(64 * 33).blocks(16); // T' = 33
        assertEquals(2, blocks.size());
        assertArrayEquals(new int[] {0, 16}, blocks.get(0));
        assertArrayEquals(new int[] {16, 33}, blocks.get(1));

        List<int[]> even = new TimeBlocks(64 * 48).blocks(16);
        assertEquals(3, even.size());
        assertArrayEquals(new int[] {32, 48}, even.get(2));
    }

    @Test
    void everyBlockFeedsEachConvExactlyTwoRowsPerOutputPlusOne() {
        // What makes a block compute the same sums as the whole-file conv: rows below plus explicit zero rows
        // are exactly the 2n+1 rows a stride-2, kernel-3 conv without time padding needs for n outputs, and
        // blocks tile the output without gaps or overlap.
        for (int frames = 1; frames < 5000; frames += 37) {
            TimeBlocks blocks = new TimeBlocks(frames);
            for (int size = 1; size <= 20; size += 3) {
                int next = 0;
                for (int[] block : blocks.blocks(size)) {
                    assertEquals(next, block[0]);
                    next = block[1];
                    int[][] ranges = blocks.rangesFor(block[0], block[1]);
                    for (int k = 1; k <= TimeBlocks.LAYERS; k++) {
                        int rows = ranges[k - 1][1] - ranges[k - 1][0]
                                + (TimeBlocks.zeroRowAbove(ranges, k) ? 1 : 0)
                                + (blocks.zeroRowBelow(ranges, k) ? 1 : 0);
                        assertEquals(2 * (ranges[k][1] - ranges[k][0]) + 1, rows,
                                "frames " + frames + " block " + block[0] + ".." + block[1] + " layer " + k);
                        assertTrue(ranges[k - 1][0] >= 0 && ranges[k - 1][1] <= blocks.length(k - 1));
                    }
                }
                assertEquals(blocks.length(TimeBlocks.LAYERS), next, "blocks cover T'");
            }
        }
    }
}
