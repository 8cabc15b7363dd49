package dev.timbre.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class AudioLimitsTest {
    @Test
    void maxFramesIsTheLastLengthThatIsNotTooLong() {
        AudioLimits limits = new AudioLimits(1000, 600.0);
        for (int rate : new int[] {1, 8000, 22050, 44100, 48000, 768000}) {
            long max = limits.maxFrames(rate);
            assertFalse(limits.isTooLong(max, rate), "at " + rate + " Hz");
            assertTrue(limits.isTooLong(max + 1, rate), "at " + rate + " Hz");
        }
        assertEquals(600L * 44100, limits.maxFrames(44100));
        AudioLimits odd = new AudioLimits(1000, 0.1);
        assertFalse(odd.isTooLong(odd.maxFrames(22050), 22050));
        assertTrue(odd.isTooLong(odd.maxFrames(22050) + 1, 22050));
    }

    @Test
    void secondsInMessagesKeepUpToThreeDecimals() {
        assertEquals("700.0", AudioText.seconds(700));
        assertEquals("600.042", AudioText.seconds(600.0416));
        assertEquals("0.5", AudioText.seconds(0.5));
        assertEquals("0.001", AudioText.seconds(0.0005));
    }
}
