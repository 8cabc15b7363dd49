/**
 * Voice activity detection for OpenVoice's get-se path: Silero VAD v6.2 (ONNX, run by ONNX Runtime) and
 * whisper-timestamped's treatment of its segments. The model file is fetched at build time, never at run time.
 */
package dev.timbre.vad;
