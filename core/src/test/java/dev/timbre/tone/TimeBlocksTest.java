package dev.timbre.tone;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

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
    void everyKeptOutputReadsExactlyTheRowsTheWholeFileConvReads() {
        // What makes a block compute the same sums as the whole-file conv: with the conv's own padding of 1,
        // every kept output is centred on the same row as in the whole-file conv, and each row it reads is
        // either in the block's input or outside the recording (a padding zero in both). Blocks tile T'.
        for (int frames = 1; frames < 5000; frames += 83) {
            TimeBlocks blocks = new TimeBlocks(frames);
            for (int size = 1; size <= 20; size += 3) {
                int next = 0;
                for (int[] block : blocks.blocks(size)) {
                    assertEquals(next, block[0]);
                    next = block[1];
                    int[][] ranges = blocks.rangesFor(block[0], block[1]);
                    for (int k = 1; k <= TimeBlocks.LAYERS; k++) {
                        String where = "frames " + frames + " block " + block[0] + ".." + block[1] + " layer " + k;
                        int inStart = ranges[k - 1][0];
                        int inEnd = ranges[k - 1][1];
                        int below = blocks.length(k - 1);
                        int crop = TimeBlocks.croppedAtTop(ranges, k);
                        int produced = (inEnd - inStart - 1) / 2 + 1;
                        assertTrue(produced >= crop + ranges[k][1] - ranges[k][0], where);
                        assertEquals(0, inStart % 2, where + ": input starts on an even row");
                        assertTrue(inStart >= 0 && inEnd <= below, where);
                        for (int o = ranges[k][0]; o < ranges[k][1]; o++) {
                            int local = crop + o - ranges[k][0];
                            assertEquals(2 * o, inStart + 2 * local, where + ": centre of output " + o);
                            for (int row = 2 * o - 1; row <= 2 * o + 1; row++) {
                                boolean padding = row < 0 || row >= below;
                                assertTrue(padding || (row >= inStart && row < inEnd), where + " row " + row);
                            }
                        }
                    }
                }
                assertEquals(blocks.length(TimeBlocks.LAYERS), next, "blocks cover T'");
            }
        }
    }
}
