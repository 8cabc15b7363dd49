package dev.timbre.job;

/** The message is not a valid job message (docs/architecture.md §6 "poison"): it goes to the DLQ with this reason. */
public class PoisonMessageException extends RuntimeException {
    public PoisonMessageException(String reason) {
        super(reason);
    }
}
