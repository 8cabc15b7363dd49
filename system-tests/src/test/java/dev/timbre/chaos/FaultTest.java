package dev.timbre.chaos;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The fault catalogue's schedule; no service needed. */
class FaultTest {

    @Test
    void withoutTheBridgeNoRabbitMqFaultIsDrawn() {
        Random random = new Random(1);
        Set<Fault> drawn = EnumSet.noneOf(Fault.class);
        for (int i = 0; i < 2000; i++) {
            drawn.add(Fault.draw(random, false));
        }
        assertEquals(EnumSet.copyOf(Fault.drawable(false)), drawn);
        assertFalse(drawn.stream().anyMatch(Fault::needsBridge), drawn.toString());
        assertEquals(8, drawn.size());
    }

    @Test
    void withTheBridgeEveryDrawnFaultComesUpAndNoSigkillIsDrawn() {
        Random random = new Random(2);
        Set<Fault> drawn = EnumSet.noneOf(Fault.class);
        for (int i = 0; i < 2000; i++) {
            drawn.add(Fault.draw(random, true));
        }
        assertEquals(10, drawn.size());
        assertTrue(drawn.stream().allMatch(f -> f.schedule() == Fault.Schedule.DRAWN), drawn.toString());
    }

    @Test
    void equalWeightsDrawAsTheFormerSwitchOverIntsDid() {
        // the schedule of a seed stays what it was: one nextInt(kinds) per fault, in catalogue order
        Random a = new Random(11);
        Random b = new Random(11);
        List<Fault> drawable = Fault.drawable(true);
        for (int i = 0; i < 200; i++) {
            assertEquals(drawable.get(b.nextInt(drawable.size())), Fault.draw(a, true));
        }
    }

    @Test
    void sigkillsTakeTurnsWorkerFirstAndOnlyBetweenTheProcessesThereAre() {
        List<Fault> both = new ArrayList<>();
        for (int k = 0; k < 4; k++) {
            both.add(Fault.kill(k, true, true));
        }
        assertEquals(List.of(Fault.ECS_WORKER_SIGKILL, Fault.BRIDGE_SIGKILL, Fault.ECS_WORKER_SIGKILL,
                Fault.BRIDGE_SIGKILL), both);
        assertEquals(Fault.BRIDGE_SIGKILL, Fault.kill(0, true, false));
        assertEquals(Fault.ECS_WORKER_SIGKILL, Fault.kill(1, false, true));
    }

    @Test
    void labelsAreDistinct() {
        assertEquals(Fault.values().length,
                java.util.Arrays.stream(Fault.values()).map(Fault::label).distinct().count());
    }
}
