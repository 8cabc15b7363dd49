package dev.timbre.pipeline;

import java.util.List;

/**
 * The outcomes of one batch, one per message, in the order the messages were delivered. Immutable.
 */
public record BatchOutcome(List<RecordOutcome> outcomes) {

    public BatchOutcome {
        outcomes = List.copyOf(outcomes);
    }

    /** Message ids to report as batch item failures (to be delivered again), in delivery order. */
    public List<String> failedMessageIds() {
        return outcomes.stream().filter(o -> !o.acknowledged()).map(RecordOutcome::messageId).toList();
    }

    /** Message ids to delete from the queue, in delivery order. */
    public List<String> acknowledgedMessageIds() {
        return outcomes.stream().filter(RecordOutcome::acknowledged).map(RecordOutcome::messageId).toList();
    }

    public long count(Disposition disposition) {
        return outcomes.stream().filter(o -> o.disposition() == disposition).count();
    }
}
