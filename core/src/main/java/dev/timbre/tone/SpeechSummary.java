package dev.timbre.tone;

import java.util.List;

/**
 * What get-se kept of a recording: the speech segments the VAD found (after whisper-timestamped's dilatation and
 * merge), in seconds as computed at 16 kHz, their total length and the lengths of the parts that were embedded.
 *
 * @param segmentsSeconds {@code [start, end]} pairs in seconds, in order, not overlapping
 * @param keptSeconds     length of the joined speech (millisecond slices of the original audio)
 * @param splitSeconds    length of each part embedded (round(kept / 10 s) parts)
 */
public record SpeechSummary(List<double[]> segmentsSeconds, double keptSeconds, List<Double> splitSeconds) {
    public SpeechSummary {
        segmentsSeconds = List.copyOf(segmentsSeconds);
        splitSeconds = List.copyOf(splitSeconds);
    }
}
