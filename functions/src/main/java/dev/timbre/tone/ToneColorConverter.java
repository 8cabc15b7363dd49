package dev.timbre.tone;

/** SKELETON (compiles; implementation in progress). One thread's converter. */
public final class ToneColorConverter implements AutoCloseable {
    public float[] embed(float[] monoAtModelRate) {
        throw new UnsupportedOperationException("not implemented yet");
    }

    @Override
    public void close() {
    }
}
