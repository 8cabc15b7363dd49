package dev.timbre.vad;

import java.util.ArrayList;
import java.util.List;

/**
 * silero-vad's {@code get_speech_timestamps} (src/silero_vad/utils_vad.py, master / v6.2) from the per-window
 * probabilities on: hysteresis between {@code threshold} and {@code threshold - 0.15}, silences shorter than the
 * minimum bridged, speech shorter than the minimum dropped, then the 30 ms padding (halving the gap between two
 * segments closer than 60 ms). The max-speech split is ported too, though whisper-timestamped leaves it at infinity.
 * Segments are in samples, {@code [start, end)}.
 */
public final class SpeechTimestamps {

    public record Segment(long start, long end) {}

    private final double threshold;
    private final double negThreshold;
    private final double minSpeechSamples;
    private final double minSilenceSamples;
    private final double speechPadSamples;
    private final double maxSpeechSamples;
    private final double minSilenceSamplesAtMaxSpeech;
    private final int window;

    /** As whisper-timestamped calls it for OpenVoice: min speech 100 ms, min silence 1000 ms, the rest default. */
    public static SpeechTimestamps openVoice() {
        return new SpeechTimestamps(0.5, 100, 1000, 30, Double.POSITIVE_INFINITY);
    }

    public SpeechTimestamps(double threshold, int minSpeechMs, int minSilenceMs, int speechPadMs,
            double maxSpeechSeconds) {
        int rate = SileroVad.SAMPLE_RATE;
        this.window = SileroVad.WINDOW;
        this.threshold = threshold;
        this.negThreshold = Math.max(threshold - 0.15, 0.01);
        this.minSpeechSamples = rate * minSpeechMs / 1000.0;
        this.speechPadSamples = rate * speechPadMs / 1000.0;
        this.maxSpeechSamples = rate * maxSpeechSeconds - window - 2 * speechPadSamples;
        this.minSilenceSamples = rate * minSilenceMs / 1000.0;
        this.minSilenceSamplesAtMaxSpeech = rate * 98 / 1000.0;
    }

    /**
     * @param probabilities one per 512-sample window ({@link SileroVad#probabilities})
     * @param audioLength the number of samples the windows cover (the last window may be partial)
     */
    public List<Segment> segments(float[] probabilities, long audioLength) {
        List<long[]> speeches = new ArrayList<>();
        boolean triggered = false;
        long[] current = null; // {start, end}; null is Python's empty dict
        long tempEnd = 0;
        long prevEnd = 0;
        long nextStart = 0;
        List<long[]> possibleEnds = new ArrayList<>(); // {end, silence duration}
        for (int i = 0; i < probabilities.length; i++) {
            // Python compares the float32 probability (as a double) with the double threshold
            double p = probabilities[i];
            long cur = (long) window * i;
            if (p >= threshold && tempEnd != 0) {
                long silence = cur - tempEnd;
                if (silence > minSilenceSamplesAtMaxSpeech) {
                    possibleEnds.add(new long[] {tempEnd, silence});
                }
                tempEnd = 0;
                if (nextStart < prevEnd) {
                    nextStart = cur;
                }
            }
            if (p >= threshold && !triggered) {
                triggered = true;
                current = new long[] {cur, -1};
                continue;
            }
            if (triggered && cur - current[0] > maxSpeechSamples) {
                if (!possibleEnds.isEmpty()) {
                    long[] longest = possibleEnds.get(0);
                    for (long[] e : possibleEnds) {
                        if (e[1] > longest[1]) {
                            longest = e; // max() keeps the first of equals
                        }
                    }
                    prevEnd = longest[0];
                    current[1] = prevEnd;
                    speeches.add(current);
                    current = null;
                    nextStart = prevEnd + longest[1];
                    if (nextStart < prevEnd + cur) {
                        current = new long[] {nextStart, -1};
                    } else {
                        triggered = false;
                    }
                    prevEnd = nextStart = tempEnd = 0;
                    possibleEnds.clear();
                } else if (prevEnd != 0) {
                    // unreachable with use_max_poss_sil_at_max_speech (prev_end is only set with possible ends)
                    current[1] = prevEnd;
                    speeches.add(current);
                    current = null;
                    if (nextStart < prevEnd) {
                        triggered = false;
                    } else {
                        current = new long[] {nextStart, -1};
                    }
                    prevEnd = nextStart = tempEnd = 0;
                    possibleEnds.clear();
                } else {
                    current[1] = cur;
                    speeches.add(current);
                    current = null;
                    prevEnd = nextStart = tempEnd = 0;
                    triggered = false;
                    possibleEnds.clear();
                    continue;
                }
            }
            if (p < negThreshold && triggered) {
                if (tempEnd == 0) {
                    tempEnd = cur;
                }
                long silenceNow = cur - tempEnd;
                if (silenceNow < minSilenceSamples) {
                    continue;
                }
                current[1] = tempEnd;
                if (current[1] - current[0] > minSpeechSamples) {
                    speeches.add(current);
                }
                current = null;
                prevEnd = nextStart = tempEnd = 0;
                triggered = false;
                possibleEnds.clear();
            }
        }
        if (current != null && audioLength - current[0] > minSpeechSamples) {
            current[1] = audioLength;
            speeches.add(current);
        }
        return pad(speeches, audioLength);
    }

    private List<Segment> pad(List<long[]> speeches, long audioLength) {
        long pad = (long) speechPadSamples; // 480 at 16 kHz: whole, so Python's float arithmetic is exact here
        for (int i = 0; i < speeches.size(); i++) {
            long[] speech = speeches.get(i);
            if (i == 0) {
                speech[0] = Math.max(0, speech[0] - pad);
            }
            if (i != speeches.size() - 1) {
                long[] next = speeches.get(i + 1);
                long silence = next[0] - speech[1];
                if (silence < 2 * pad) {
                    speech[1] += Math.floorDiv(silence, 2);
                    next[0] = Math.max(0, next[0] - Math.floorDiv(silence, 2));
                } else {
                    speech[1] = Math.min(audioLength, speech[1] + pad);
                    next[0] = Math.max(0, next[0] - pad);
                }
            } else {
                speech[1] = Math.min(audioLength, speech[1] + pad);
            }
        }
        List<Segment> segments = new ArrayList<>(speeches.size());
        for (long[] s : speeches) {
            segments.add(new Segment(s[0], s[1]));
        }
        return segments;
    }
}
