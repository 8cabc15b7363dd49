package dev.timbre.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * A header that states a definite length longer than the file holds (by more than one frame) is a truncated
 * upload: one line naming both lengths. Streaming headers (WAV data size 0 or 0xFFFFFFFF, FLAC total samples 0,
 * an MP3 without a Xing/Info frame count) are read to the end of the file.
 */
class TruncatedAudioTest {
    private static final AudioLoader LOADER = new AudioLoader(AudioLimits.DEFAULT);
    private static final Path FORMATS = Path.of("src", "test", "resources", "audio", "formats");
    /** Offset of the WAV data chunk's size field in a file built by {@link TestWav} with one plain fmt chunk. */
    private static final int WAV_DATA_SIZE = 40;

    private static String failure(byte[] data) {
        InvalidAudioException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(InvalidAudioException.class, () -> LOADER.load(data, 22050)));
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    private static LoadedAudio load(byte[] data) {
        return assertTimeoutPreemptively(Duration.ofSeconds(10), () -> LOADER.load(data, 22050));
    }

    private static byte[] patch32le(byte[] data, int at, long value) {
        byte[] copy = data.clone();
        for (int i = 0; i < 4; i++) {
            copy[at + i] = (byte) (value >>> (8 * i));
        }
        return copy;
    }

    @Nested
    class Wav {
        /** 0.1 s of 16-bit mono at 22050 Hz. */
        private final byte[] tenthOfASecond = TestWav.create().fmt(TestWav.PCM, 1, 22050, 16)
                .data(TestWav.sine16(2205, 22050, 440)).bytes();

        @Test
        void headerClaimingTwelveHoursIsTruncated() {
            byte[] wav = patch32le(tenthOfASecond, WAV_DATA_SIZE, 12L * 3600 * 22050 * 2);
            assertEquals("audio is truncated: header declares 43200.0 s, file holds 0.1 s", failure(wav));
        }

        @Test
        void dataChunkClaimingTwoGigabytesIsTruncated() {
            byte[] wav = patch32le(patch32le(tenthOfASecond, 4, 0x7FFFFFFFL), WAV_DATA_SIZE, 0x7FFFFFF0L);
            // 0x7FFFFFF0 bytes = 1073741816 frames of 2 bytes = 48695.774 s at 22050 Hz
            assertEquals("audio is truncated: header declares 48695.774 s, file holds 0.1 s", failure(wav));
        }

        @Test
        void streamingSentinelsAreReadToTheEnd() {
            for (long sentinel : new long[] {0xFFFFFFFFL, 0}) {
                byte[] wav = patch32le(patch32le(tenthOfASecond, 4, sentinel), WAV_DATA_SIZE, sentinel);
                LoadedAudio audio = load(wav);
                assertEquals(2205, audio.samples().length, "data size " + Long.toHexString(sentinel));
                assertEquals(0.1, audio.durationSeconds(), 1e-12);
            }
        }

        @Test
        void aCutInsideTheLastFrameIsNotTruncation() {
            byte[] stereo = TestWav.create().fmt(TestWav.PCM, 2, 22050, 16)
                    .data(TestWav.sine16(2 * 2205, 22050, 440)).bytes();
            // up to one whole frame (4 bytes) missing: the partial frame is dropped, as libsndfile does
            assertEquals(2204, load(Arrays.copyOf(stereo, stereo.length - 1)).samples().length);
            assertEquals(2204, load(Arrays.copyOf(stereo, stereo.length - 4)).samples().length);
            assertEquals("audio is truncated: header declares 0.1 s, file holds 0.1 s",
                    failure(Arrays.copyOf(stereo, stereo.length - 5)));
            assertEquals("audio is truncated: header declares 0.1 s, file holds 0.05 s",
                    failure(Arrays.copyOf(stereo, stereo.length - 2205 * 2)));
        }

        @Test
        void aCompleteTwelveHourRecordingIsTooLongNotTruncated() {
            byte[] wav = TestWav.create().fmt(TestWav.PCM, 1, 1, 8).data(new byte[12 * 3600]).bytes();
            assertEquals("audio too long: 43200.0 s exceeds the limit of 600.0 s", failure(wav));
        }
    }

    @Nested
    class Flac {
        private final byte[] flac = read("flac_s24_mono_16000.flac");
        /** STREAMINFO's 36-bit total samples: the low 4 bits of byte 21, then bytes 22..25. */
        private static final int TOTAL_SAMPLES = 8 + 13;

        @Test
        void headerClaimingTwelveHoursIsTruncated() {
            double holds = load(flac).durationSeconds();
            String message = failure(withTotalSamples(flac, 12L * 3600 * 16000));
            assertEquals("audio is truncated: header declares 43200.0 s, file holds " + AudioText.seconds(holds)
                    + " s", message);
        }

        @Test
        void aFileCutInHalfIsTruncated() {
            double declared = load(flac).durationSeconds();
            String message = failure(Arrays.copyOf(flac, flac.length / 2));
            assertTrue(message.startsWith("audio is truncated: header declares " + AudioText.seconds(declared)
                    + " s, file holds "), message);
        }

        @Test
        void unknownTotalSamplesAreReadToTheEnd() {
            byte[] cut = withTotalSamples(Arrays.copyOf(flac, flac.length / 2), 0);
            double half = load(cut).durationSeconds();
            assertTrue(half > 0.2 && half < load(flac).durationSeconds(), "decoded " + half + " s");
        }

        @Test
        void aCutInsideTheLastFrameIsNotTruncation() {
            // the last frame is lost (at most one block of samples), which is less than one frame
            LoadedAudio audio = load(Arrays.copyOf(flac, flac.length - 16));
            assertTrue(audio.durationSeconds() < load(flac).durationSeconds());
        }

        @Test
        void aTinyFileClaimingTenMinutesAt768KiloHertzIsTruncated() {
            byte[] tiny = tinyFlacClaiming(600L * 768_000);
            assertEquals(200, tiny.length);
            assertEquals("audio is truncated: header declares 600.0 s, file holds 0.0 s", failure(tiny));
        }
    }

    @Nested
    class Mp3 {
        private final byte[] mp3 = read("mp3_mono_22050.mp3");
        /** The Info tag's frame count in this MPEG-2 mono file: 4-byte header, 9 bytes side info, "Info", flags. */
        private static final int INFO_FRAMES = 4 + 9 + 8;

        @Test
        void infoFrameCountClaimingTwelveHoursIsTruncated() {
            byte[] lying = mp3.clone();
            long frames = 12L * 3600 * 22050 / 576;
            for (int i = 0; i < 4; i++) {
                lying[INFO_FRAMES + i] = (byte) (frames >>> (24 - 8 * i));
            }
            String message = failure(lying);
            // the file holds 1.0 s (without the encoder padding, which the lying count no longer lets be trimmed)
            assertTrue(message.matches("audio is truncated: header declares 4319\\d\\.\\d+ s, file holds 1\\.0\\d* s"),
                    message);
        }

        @Test
        void aFileCutInHalfIsTruncated() {
            double declared = load(mp3).durationSeconds();
            String message = failure(Arrays.copyOf(mp3, mp3.length / 2));
            assertTrue(message.startsWith("audio is truncated: header declares " + AudioText.seconds(declared)
                    + " s, file holds "), message);
        }

        @Test
        void aCutInsideTheLastFrameIsNotTruncation() {
            assertTrue(load(Arrays.copyOf(mp3, mp3.length - 100)).durationSeconds() > 0.5);
        }

        @Test
        void withoutAFrameCountACutFileIsReadToTheEnd() {
            byte[] noCount = mp3.clone();
            noCount[INFO_FRAMES - 1] &= ~1; // flags: no frame count
            assertTrue(load(Arrays.copyOf(noCount, noCount.length / 2)).durationSeconds() > 0.2);
        }
    }

    static byte[] read(String name) {
        try {
            return Files.readAllBytes(FORMATS.resolve(name));
        } catch (IOException e) {
            throw new AssertionError(e);
        }
    }

    static byte[] withTotalSamples(byte[] flac, long total) {
        byte[] f = flac.clone();
        f[21] = (byte) ((f[21] & 0xF0) | (int) (total >>> 32));
        f[22] = (byte) (total >>> 24);
        f[23] = (byte) (total >>> 16);
        f[24] = (byte) (total >>> 8);
        f[25] = (byte) total;
        return f;
    }

    /**
     * A 200-byte FLAC: a real STREAMINFO (as the only metadata block) rewritten to 768 kHz mono with
     * {@code totalSamples}, followed by the first 158 bytes of a real frame.
     */
    static byte[] tinyFlacClaiming(long totalSamples) {
        byte[] real = read("flac_s24_mono_16000.flac");
        int frames = 4;
        boolean last = false;
        while (!last) { // walk the metadata blocks to the first frame
            last = (real[frames] & 0x80) != 0;
            frames += 4 + (((real[frames + 1] & 0xFF) << 16) | ((real[frames + 2] & 0xFF) << 8)
                    | (real[frames + 3] & 0xFF));
        }
        byte[] f = new byte[200];
        System.arraycopy(real, 0, f, 0, 42);
        f[4] = (byte) 0x80; // STREAMINFO is the last metadata block
        System.arraycopy(real, frames, f, 42, 158);
        f = withTotalSamples(f, totalSamples);
        int rate = 768_000;
        f[18] = (byte) (rate >> 12);
        f[19] = (byte) (rate >> 4);
        f[20] = (byte) (((rate & 0xF) << 4) | (f[20] & 0x0F));
        return f;
    }
}
