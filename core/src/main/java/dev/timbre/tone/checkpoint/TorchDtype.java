package dev.timbre.tone.checkpoint;

/**
 * The element types a {@code torch.save} pickle names through its legacy storage classes
 * ({@code GLOBAL torch.FloatStorage} and so on). Only these classes may appear in a checkpoint we unpickle;
 * quantized storages are not listed, so a pickle naming them is refused like any other global.
 */
enum TorchDtype {
    FLOAT32("FloatStorage", "float32", 4),
    FLOAT64("DoubleStorage", "float64", 8),
    FLOAT16("HalfStorage", "float16", 2),
    BFLOAT16("BFloat16Storage", "bfloat16", 2),
    INT64("LongStorage", "int64", 8),
    INT32("IntStorage", "int32", 4),
    INT16("ShortStorage", "int16", 2),
    INT8("CharStorage", "int8", 1),
    UINT8("ByteStorage", "uint8", 1),
    BOOL("BoolStorage", "bool", 1),
    COMPLEX64("ComplexFloatStorage", "complex64", 8),
    COMPLEX128("ComplexDoubleStorage", "complex128", 16);

    private final String storageClass;
    private final String pythonName;
    private final int elementSize;

    TorchDtype(String storageClass, String pythonName, int elementSize) {
        this.storageClass = storageClass;
        this.pythonName = pythonName;
        this.elementSize = elementSize;
    }

    /** The storage class name in module {@code torch}, e.g. {@code FloatStorage}. */
    String storageClass() {
        return storageClass;
    }

    /** The name torch prints for it, e.g. {@code float32}; used in error messages. */
    String pythonName() {
        return pythonName;
    }

    int elementSize() {
        return elementSize;
    }
}
