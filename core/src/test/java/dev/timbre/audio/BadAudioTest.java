package dev.timbre.audio;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Arrays;
import java.util.Random;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** Bad audio of every kind (docs/architecture.md §6): one line naming what was wrong, never a crash or a hang. */
class BadAudioTest {
    private static final AudioLoader LOADER = new AudioLoader(AudioLimits.DEFAULT);

    private static String failure(AudioLoader loader, byte[] data) {
        InvalidAudioException e = assertTimeoutPreemptively(Duration.ofSeconds(10),
                () -> assertThrows(InvalidAudioException.class, () -> loader.load(data, 22050)));
        assertTrue(!e.getMessage().contains("\n"), "one line: " + e.getMessage());
        return e.getMessage();
    }

    private static String failure(byte[] data) {
        return failure(LOADER, data);
    }

    private static TestWav monoPcm16(int rate) {
        return TestWav.create().fmt(TestWav.PCM, 1, rate, 16);
    }

    @Nested
    class NotAudio {
        @Test
        void randomBytesAreAnUnsupportedFormat() {
            byte[] random = new byte[4096];
            new Random(42).nextBytes(random);
            assertEquals("unsupported audio format: unrecognised header bytes "
                    + AudioText.hex(random, 0, 8) + " (supported: WAV, FLAC, MP3, Ogg Vorbis)", failure(random));
        }

        @Test
        void pngAiffOpusAndMp4AreNamed() {
            byte[] png = {(byte) 0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n', 0, 0, 0, 13};
            assertEquals("unsupported audio format: PNG image", failure(png));
            byte[] aiff = "FORM\0\0\0\u0020AIFFCOMM".getBytes(StandardCharsets.ISO_8859_1);
            assertEquals("unsupported audio format: AIFF", failure(aiff));
            byte[] opus = new byte[64];
            System.arraycopy("OggS".getBytes(StandardCharsets.ISO_8859_1), 0, opus, 0, 4);
            opus[26] = 1;
            opus[27] = 19;
            System.arraycopy("OpusHead".getBytes(StandardCharsets.ISO_8859_1), 0, opus, 28, 8);
            assertEquals("unsupported audio format: Ogg Opus (Ogg Vorbis is supported)", failure(opus));
            byte[] mp4 = "\0\0\0\u0020ftypM4A \0\0\0\0".getBytes(StandardCharsets.ISO_8859_1);
            assertEquals("unsupported audio format: MP4/M4A (ftyp M4A)", failure(mp4));
            byte[] avi = "RIFF\0\0\0\0AVI LIST".getBytes(StandardCharsets.ISO_8859_1);
            assertEquals("unsupported audio format: RIFF file of type 'AVI ', not WAVE", failure(avi));
        }

        @Test
        void unsupportedWavEncodingsAreNamed() {
            byte[] adpcm = TestWav.create().fmt(2, 1, 8000, 4).data(new byte[400]).bytes();
            assertEquals("unsupported audio format: WAV encoding 0x0002 (MS ADPCM) (supported: PCM, IEEE float)",
                    failure(adpcm));
            byte[] pcm12 = TestWav.create().fmt(TestWav.PCM, 1, 8000, 12).data(new byte[400]).bytes();
            assertEquals("unsupported audio format: WAV PCM with 12 bits per sample (supported: 8, 16, 24, 32)",
                    failure(pcm12));
            byte[] float16 = TestWav.create().fmt(TestWav.FLOAT, 1, 8000, 16).data(new byte[400]).bytes();
            assertEquals("unsupported audio format: WAV IEEE float with 16 bits per sample (supported: 32, 64)",
                    failure(float16));
        }
    }

    @Nested
    class BrokenHeaders {
        private final byte[] valid = monoPcm16(22050).data(TestWav.sine16(1000, 22050, 440)).bytes();

        @Test
        void truncatedHeaders() {
            assertEquals("invalid WAV: truncated RIFF header (10 bytes, need 12)",
                    failure(Arrays.copyOf(valid, 10)));
            assertEquals("invalid WAV: no fmt chunk (truncated header?)", failure(Arrays.copyOf(valid, 12)));
            assertEquals("invalid WAV: truncated fmt chunk: 16 bytes declared, 8 present",
                    failure(Arrays.copyOf(valid, 28)));
            assertEquals("invalid WAV: no data chunk (truncated header?)", failure(Arrays.copyOf(valid, 36)));
        }

        @Test
        void headerWithoutSamplesIsEmpty() {
            // a data chunk of 0 bytes: nothing to decode
            assertEquals("audio is empty: 0 samples", failure(monoPcm16(22050).data(new byte[0]).bytes()));
            // a data chunk that declares 1000 frames, none present: an upload cut after the header
            assertEquals("audio is truncated: header declares 0.045 s, file holds 0.0 s",
                    failure(Arrays.copyOf(valid, 44)));
            assertEquals("audio is empty: 0 bytes", failure(new byte[0]));
        }

        @Test
        void zeroAndTooManyChannels() {
            assertEquals("invalid WAV: 0 channels",
                    failure(TestWav.create().fmt(TestWav.PCM, 0, 22050, 16).data(new byte[100]).bytes()));
            assertEquals("invalid WAV: 65 channels exceeds the limit of 64",
                    failure(TestWav.create().fmt(TestWav.PCM, 65, 22050, 16).data(new byte[1300]).bytes()));
        }

        @Test
        void absurdSampleRates() {
            assertEquals("invalid WAV: sample rate 0 Hz is outside 1..768000 Hz",
                    failure(monoPcm16(0).data(new byte[100]).bytes()));
            assertEquals("invalid WAV: sample rate 768001 Hz is outside 1..768000 Hz",
                    failure(monoPcm16(768001).data(new byte[100]).bytes()));
            assertEquals("invalid WAV: sample rate 4294967295 Hz is outside 1..768000 Hz",
                    failure(TestWav.create().fmt(TestWav.PCM, 1, 0xFFFFFFFFL, 16).data(new byte[100]).bytes()));
        }

        @Test
        void inconsistentBlockAlign() {
            byte[] wav = monoPcm16(22050).data(new byte[100]).bytes();
            wav[32] = 3; // block align of a 16-bit mono file is 2
            assertEquals("invalid WAV: block align 3 does not match 1 channels of 16 bits (expected 2)",
                    failure(wav));
        }

        @Test
        void hostileFmtSizeIsBoundedByTheFile() {
            byte[] wav = TestWav.create().chunk("fmt ", 0xFFFFFFF0L, new byte[16]).bytes();
            assertEquals("invalid WAV: truncated fmt chunk: 4294967280 bytes declared, 16 present", failure(wav));
        }
    }

    @Nested
    class HostileDataSize {
        @Test
        void hugeDataChunkSizeReadsOnlyTheFramesPresent() {
            // a streaming writer's 0xFFFFFFFF: read to the end of the file, never an allocation size
            byte[] samples = TestWav.sine16(22050, 22050, 440);
            byte[] wav = monoPcm16(22050).chunk("data", 0xFFFFFFFFL, samples).riffSize(0xFFFFFFFFL).bytes();
            LoadedAudio loaded = assertTimeoutPreemptively(Duration.ofSeconds(5), () -> LOADER.load(wav, 22050));
            assertEquals(22050, loaded.samples().length);
            assertEquals(1.0, loaded.durationSeconds(), 0);
        }

        @Test
        void hugeDataChunkSizeWithoutFramesIsTruncated() {
            byte[] wav = monoPcm16(22050).chunk("data", 0xFFFFFFF0L, new byte[1]).bytes();
            assertEquals("audio is truncated: header declares 97391.548 s, file holds 0.0 s", failure(wav));
        }

        @Test
        void unknownChunksAreSkippedWithTheirPadByte() {
            byte[] wav = monoPcm16(22050).chunk("LIST", new byte[7]).chunk("junk", new byte[0])
                    .data(TestWav.sine16(500, 22050, 440)).chunk("id3 ", new byte[3]).bytes();
            assertEquals(500, LOADER.load(wav, 22050).samples().length);
        }
    }

    @Nested
    class BadSamples {
        @Test
        void nanAndInfinityAreRejectedWithTheirPosition() {
            float[] samples = new float[1000];
            samples[3] = Float.NaN;
            byte[] nan = TestWav.create().fmt(TestWav.FLOAT, 1, 22050, 32).data(TestWav.float32(samples)).bytes();
            assertEquals("audio contains non-finite samples (NaN or Inf) at sample 3", failure(nan));

            double[] doubles = new double[2000]; // stereo: frame 700 holds +Inf on the right
            doubles[1401] = Double.POSITIVE_INFINITY;
            byte[] inf = TestWav.create().fmt(TestWav.FLOAT, 2, 22050, 64).data(TestWav.float64(doubles)).bytes();
            assertEquals("audio contains non-finite samples (NaN or Inf) at sample 700", failure(inf));
        }

        @Test
        void tooShortAfterResampling() {
            byte[] wav = monoPcm16(44100).data(TestWav.sine16(240, 44100, 440)).bytes();
            assertEquals("audio too short: 120 samples at 22050 Hz after resampling, need at least 385",
                    failure(wav));
            byte[] justEnough = monoPcm16(44100).data(TestWav.sine16(770, 44100, 440)).bytes();
            assertEquals(385, LOADER.load(justEnough, 22050).samples().length);
        }
    }

    @Nested
    class Limits {
        @Test
        void overTheByteLimit() {
            byte[] big = new byte[60_000_000];
            assertEquals("audio too large: 60000000 bytes exceeds the limit of 52428800 bytes", failure(big));
        }

        @Test
        void overTheSecondsLimitIsCheckedFromTheHeaderBeforeDecoding() {
            // 700 s at 100 Hz; the first sample is NaN, so a decode-first check would report that instead
            float[] samples = new float[70_000];
            samples[0] = Float.NaN;
            byte[] wav = TestWav.create().fmt(TestWav.FLOAT, 1, 100, 32).data(TestWav.float32(samples)).bytes();
            assertEquals("audio too long: 700.0 s exceeds the limit of 600.0 s", failure(wav));
        }

        @Test
        void compressedFormatsAreCheckedAgainstTheSecondsLimit() {
            AudioLoader halfSecond = new AudioLoader(new AudioLimits(1 << 20, 0.5));
            // FLAC STREAMINFO and the MP3 Info tag announce the length: decoding stops at the limit, the message
            // names the announced length
            assertEquals("audio too long: 1.0 s exceeds the limit of 0.5 s",
                    failure(halfSecond, AudioFormatsTest.read("flac_s16_stereo_44100.flac")));
            assertEquals("audio too long: 1.0 s exceeds the limit of 0.5 s",
                    failure(halfSecond, AudioFormatsTest.read("mp3_stereo_44100.mp3")));
            // Ogg announces nothing up front: decoding stops at the limit
            assertEquals("audio too long: more than 0.5 s exceeds the limit of 0.5 s",
                    failure(halfSecond, AudioFormatsTest.read("ogg_stereo_44100.ogg")));
            assertEquals("audio too long: 1.0 s exceeds the limit of 0.5 s",
                    failure(halfSecond, AudioFormatsTest.read("wav_f32_mono_22050.wav")));
        }
    }

    @Nested
    class HostileCompressedHeaders {
        @Test
        void flacMetadataBlockLongerThanTheFile() {
            byte[] flac = AudioFormatsTest.read("flac_s16_stereo_44100.flac");
            // the block after STREAMINFO (4 + 4 + 34 = 42) claims 16 MB
            flac[43] = (byte) 0xFF;
            flac[44] = (byte) 0xFF;
            flac[45] = (byte) 0xFF;
            String message = failure(flac);
            assertTrue(message.matches("invalid FLAC: metadata block of 16777215 bytes at byte 42 runs past the "
                    + "end of the file \\(\\d+ bytes\\)"), message);
        }

        @Test
        void flacWithZeroSampleRate() {
            byte[] flac = AudioFormatsTest.read("flac_s16_stereo_44100.flac");
            flac[18] = 0;
            flac[19] = 0;
            flac[20] = (byte) (flac[20] & 0x0F);
            assertEquals("invalid FLAC: sample rate 0 Hz is outside 1..768000 Hz", failure(flac));
        }

        @Test
        void id3TagLongerThanTheFile() {
            byte[] mp3 = AudioFormatsTest.read("mp3_stereo_44100.mp3");
            byte[] tagged = new byte[mp3.length + 10];
            byte[] header = {'I', 'D', '3', 4, 0, 0, 0x7F, 0x7F, 0x7F, 0x7F};
            System.arraycopy(header, 0, tagged, 0, 10);
            System.arraycopy(mp3, 0, tagged, 10, mp3.length);
            assertEquals("invalid MP3: ID3v2 tag of 268435455 bytes runs past the end of the file ("
                    + tagged.length + " bytes)", failure(tagged));
        }

        @Test
        void id3TaggedMp3AndFlacStillDecode() {
            for (String file : new String[] {"mp3_stereo_44100.mp3", "flac_s16_stereo_44100.flac"}) {
                byte[] audio = AudioFormatsTest.read(file);
                byte[] tagged = new byte[audio.length + 30];
                byte[] header = {'I', 'D', '3', 4, 0, 0, 0, 0, 0, 20};
                System.arraycopy(header, 0, tagged, 0, 10);
                System.arraycopy(audio, 0, tagged, 30, audio.length);
                assertEquals(44100, LOADER.decode(tagged).mono().length, file);
            }
        }

        @Test
        void vorbisCodebookOfDimensionZeroIsRejectedNotLoopedOn() {
            // JOrbis would spin forever in maptype1_quantvals on this book
            byte[] ogg = AudioFormatsTest.read("ogg_stereo_44100.ogg");
            int setup = OggPages.indexOf(ogg, "\u0005vorbis".getBytes(StandardCharsets.ISO_8859_1), 0);
            int book = OggPages.indexOf(ogg, new byte[] {0x42, 0x43, 0x56}, setup);
            assertTrue(setup > 0 && book == setup + 8, "first codebook right after the book count");
            ogg[book + 3] = 0;
            ogg[book + 4] = 0;
            OggPages.fixChecksums(ogg);
            String message = failure(ogg);
            assertTrue(message.matches("invalid Ogg Vorbis: codebook 0 has \\d+ entries of dimension 0"), message);
        }
    }
}
