package dev.timbre.tone;

import dev.timbre.audio.InvalidAudioException;

/**
 * get-se kept too little speech to make even one part (OpenVoice: "input audio is too short"). A permanent failure,
 * like any unusable audio; the message names what was kept, what is needed, and the mode that embeds the whole clip.
 */
public final class TooLittleSpeechException extends InvalidAudioException {
    public TooLittleSpeechException(double keptSeconds) {
        super(String.format(java.util.Locale.ROOT,
                "too little speech: %.2f s after silence removal; get-se needs at least 5 s (mode extract-se embeds "
                        + "the whole clip)", keptSeconds));
    }
}
