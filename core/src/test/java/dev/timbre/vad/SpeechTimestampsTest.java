package dev.timbre.vad;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.timbre.vad.SpeechTimestamps.Segment;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** get_speech_timestamps on hand-made probabilities; the expected samples are worked out in the comments. */
class SpeechTimestampsTest {

    private static final SpeechTimestamps OPENVOICE = SpeechTimestamps.openVoice();

    /** Runs of (count, probability). */
    private static float[] probs(Object... runs) {
        List<Float> out = new ArrayList<>();
        for (int i = 0; i < runs.length; i += 2) {
            for (int n = 0; n < (Integer) runs[i]; n++) {
                out.add(((Double) runs[i + 1]).floatValue());
            }
        }
        float[] p = new float[out.size()];
        for (int i = 0; i < p.length; i++) {
            p[i] = out.get(i);
        }
        return p;
    }

    @Test
    void speechAtTheStartEndsWhereTheSilenceBeganPlusThePad() {
        // starts at 0; silence from window 10 (5120), confirmed after 1 s; pad 480 (start clipped to 0)
        assertEquals(List.of(new Segment(0, 5600)), OPENVOICE.segments(probs(10, 0.9, 50, 0.1), 60 * 512));
    }

    @Test
    void silencesShorterThanOneSecondAreBridged() {
        // 20 silent windows = 10240 samples < 16000: one segment to the second silence (40 * 512 = 20480) + 480
        assertEquals(List.of(new Segment(0, 20960)),
                OPENVOICE.segments(probs(10, 0.9, 20, 0.1, 10, 0.9, 40, 0.1), 80 * 512));
    }

    @Test
    void speechOfAtMostOneHundredMillisecondsIsDropped() {
        // 3 windows = 1536 samples, not more than 1600: dropped; 4 windows = 2048: kept and padded
        assertEquals(List.of(), OPENVOICE.segments(probs(10, 0.1, 3, 0.9, 50, 0.1), 63 * 512));
        assertEquals(List.of(new Segment(4640, 7648)), OPENVOICE.segments(probs(10, 0.1, 4, 0.9, 50, 0.1), 64 * 512));
    }

    @Test
    void speechRunningToTheEndEndsAtTheAudioLength() {
        // starts at 5120, runs to the partial last window: ends at the length (7500), the pad clipped to it
        assertEquals(List.of(new Segment(4640, 7500)), OPENVOICE.segments(probs(10, 0.1, 5, 0.9), 7500));
        // 6656 - 5120 = 1536: too short even at the end
        assertEquals(List.of(), OPENVOICE.segments(probs(10, 0.1, 3, 0.9), 6656));
    }

    @Test
    void probabilitiesBetweenTheTwoThresholdsKeepSpeechGoing() {
        // 0.4 is below 0.5 (no start) but not below 0.35 (no end): the segment ends where 0.1 begins (42 * 512)
        assertEquals(List.of(new Segment(0, 21984)), OPENVOICE.segments(probs(2, 0.9, 40, 0.4, 40, 0.1), 82 * 512));
        assertEquals(List.of(), OPENVOICE.segments(probs(40, 0.4, 40, 0.1), 80 * 512));
    }

    @Test
    void gapsWiderThanTwoPadsArePaddedOnBothSides() {
        // min silence 50 ms (800 samples): [0, 2048] and [3584, 5632]; gap 1536 >= 960, so 480 each side
        SpeechTimestamps shortSilence = new SpeechTimestamps(0.5, 100, 50, 30, Double.POSITIVE_INFINITY);
        assertEquals(List.of(new Segment(0, 2528), new Segment(3104, 6112)),
                shortSilence.segments(probs(4, 0.9, 3, 0.1, 4, 0.9, 3, 0.1), 14 * 512));
    }

    @Test
    void gapsNarrowerThanTwoPadsAreSplitInHalf() {
        // min silence 0: [0, 2048] and [2560, 4608]; gap 512 < 960, so each side takes 256
        SpeechTimestamps noSilence = new SpeechTimestamps(0.5, 100, 0, 30, Double.POSITIVE_INFINITY);
        assertEquals(List.of(new Segment(0, 2304), new Segment(2304, 4608)),
                noSilence.segments(probs(4, 0.9, 1, 0.1, 4, 0.9), 9 * 512));
    }

    @Test
    void noSpeechGivesNoSegment() {
        assertEquals(List.of(), OPENVOICE.segments(probs(100, 0.2), 100 * 512));
        assertEquals(List.of(), OPENVOICE.segments(new float[0], 0));
    }

    @Test
    void dilatationWidensByHalfASecondClipsAndMergesOverlaps() {
        // [1000, 5000] -> [0, 13000]; [20000, 30000] -> [12000, 38000]: overlap, merged
        assertEquals(List.of(new Segment(0, 38000)), SileroSpeechDetector.dilate(
                List.of(new Segment(1000, 5000), new Segment(20000, 30000)), 40000));
        // apart: [0, 9000] and [22000, 33000 (clipped)]
        assertEquals(List.of(new Segment(0, 9000), new Segment(22000, 33000)), SileroSpeechDetector.dilate(
                List.of(new Segment(0, 1000), new Segment(30000, 32000)), 33000));
        // touching (9000 == 9000) merges, as whisper-timestamped's >= does
        assertEquals(List.of(new Segment(0, 26000)), SileroSpeechDetector.dilate(
                List.of(new Segment(0, 1000), new Segment(17000, 18000)), 40000));
    }

    @Test
    void normalisationDividesByThePeakButNeverByLessThanOneTenth() {
        short[] quiet = {0, 1638, -3276}; // peak 0.1 (about): divided by max(0.1, peak)
        float[] q = SileroSpeechDetector.normalised(quiet);
        assertEquals(-3276 / 32768.0f / Math.max(0.1f, 3276 / 32768.0f), q[2], 0f);
        short[] loud = {16384, -8192};
        float[] l = SileroSpeechDetector.normalised(loud);
        assertEquals(1.0f, l[0], 0f);
        assertEquals(-0.5f, l[1], 0f);
    }
}
