package dev.timbre.bridge.forward;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BatchAssemblerTest {

    private static final long LINGER = 5_000_000;

    private static OutboundEntry entry(int size, int lane) {
        return new OutboundEntry(null, "x", Map.of(), Optional.empty(), Optional.empty(), size, lane);
    }

    @Test
    void tenthEntryClosesTheBatchAndTheEleventhStartsTheNext() {
        BatchAssembler a = new BatchAssembler(1, LINGER);
        List<OutboundBatch> ready = new ArrayList<>();
        for (int i = 0; i < 11; i++) {
            ready.addAll(a.add(entry(100, 0), 0));
        }
        assertEquals(1, ready.size());
        assertEquals(10, ready.get(0).entries().size());
        assertEquals(List.of(), a.expired(LINGER - 1), "the 11th waits for its linger");
        List<OutboundBatch> second = a.expired(LINGER);
        assertEquals(1, second.size());
        assertEquals(1, second.get(0).entries().size());
    }

    @Test
    void anEntryThatWouldPassOneMebibyteClosesThePreviousBatch() {
        BatchAssembler a = new BatchAssembler(1, LINGER);
        assertEquals(List.of(), a.add(entry(600_000, 0), 0));
        assertEquals(List.of(), a.add(entry(448_576, 0), 0), "600,000 + 448,576 = 1,048,576 exactly fits");
        List<OutboundBatch> ready = a.add(entry(1, 0), 0);
        assertEquals(1, ready.size(), "one more byte does not");
        assertEquals(1_048_576, ready.get(0).sizeBytes());
        assertEquals(1, a.flushAll().get(0).entries().size());
    }

    @Test
    void anEntryOverOneMebibyteIsRefused() {
        BatchAssembler a = new BatchAssembler(1, LINGER);
        assertThrows(IllegalArgumentException.class, () -> a.add(entry(1_048_577, 0), 0));
    }

    @Test
    void lanesBatchIndependently() {
        BatchAssembler a = new BatchAssembler(2, LINGER);
        a.add(entry(10, 0), 0);
        a.add(entry(10, 1), 1_000);
        assertEquals(LINGER, a.nanosToNextDeadline(0));
        List<OutboundBatch> first = a.expired(LINGER);
        assertEquals(1, first.size());
        assertEquals(0, first.get(0).lane());
        assertTrue(a.nanosToNextDeadline(LINGER) > 0);
        assertEquals(1, a.flushAll().get(0).lane());
        assertEquals(-1, a.nanosToNextDeadline(LINGER));
    }
}
