package dev.timbre.cli;

import dev.timbre.tone.SeMode;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/** {@code --mode get-se|extract-se}; anything else is a usage error naming the accepted values. */
final class SeModeConverter implements ITypeConverter<SeMode> {
    @Override
    public SeMode convert(String value) {
        try {
            return SeMode.fromId(value);
        } catch (IllegalArgumentException e) {
            throw new TypeConversionException("--mode must be get-se or extract-se, was '" + value + "'");
        }
    }
}
