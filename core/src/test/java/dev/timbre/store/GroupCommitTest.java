package dev.timbre.store;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.timbre.job.TransientJobException;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class GroupCommitTest {

    private static final String RETURNED = "returned";

    /** The writes the store received, in order; a write holding "bad" fails as a whole, as a server's does. */
    private final List<List<String>> calls = new CopyOnWriteArrayList<>();
    private final Set<String> applied = ConcurrentHashMap.newKeySet();
    /** The first write waits here, so that the next callers arrive while it is in flight. */
    private final CountDownLatch firstWriteMayReturn = new CountDownLatch(1);
    private final CountDownLatch firstWriteStarted = new CountDownLatch(1);
    /** Each caller's outcome: {@link #RETURNED} or what it threw. */
    private final Map<String, Object> outcomes = new ConcurrentHashMap<>();
    private final List<Thread> threads = new CopyOnWriteArrayList<>();

    private void store(List<String> items) {
        calls.add(List.copyOf(items));
        if (calls.size() == 1) {
            firstWriteStarted.countDown();
            await(firstWriteMayReturn);
        }
        if (items.contains("bad")) {
            throw new IllegalStateException("refused a write holding bad");
        }
        if (items.contains("slow")) {
            throw new TransientJobException("timed out writing " + items.size(), null);
        }
        applied.addAll(items);
    }

    @AfterEach
    void releaseEveryone() throws InterruptedException {
        firstWriteMayReturn.countDown();
        for (Thread t : threads) {
            t.join(5_000);
        }
    }

    @Test
    void oneCallerAtATimeWritesAloneAndAtOnce() {
        GroupCommit<String> commit = new GroupCommit<>(this::store, GroupCommitTest::timedOut, 8);
        firstWriteMayReturn.countDown();

        for (String item : List.of("a", "b", "c")) {
            commit.write(item);
        }

        assertEquals(List.of(List.of("a"), List.of("b"), List.of("c")), calls);
    }

    @Test
    void callersArrivingDuringAWriteGoOutTogetherInTheNextOne() throws Exception {
        writeWhileTheFirstIsInFlight(8, List.of("b", "c", "d"));

        assertEquals(2, calls.size(), calls.toString());
        assertEquals(Set.of("b", "c", "d"), new HashSet<>(calls.get(1)));
        assertEquals(Set.of("a", "b", "c", "d"), applied);
        outcomes.values().forEach(outcome -> assertEquals(RETURNED, outcome, "every caller returned"));
    }

    @Test
    void aGroupIsAtMostMaxGroupItems() throws Exception {
        writeWhileTheFirstIsInFlight(2, List.of("b", "c", "d"));

        assertEquals(3, calls.size(), calls.toString());
        calls.forEach(call -> assertTrue(call.size() <= 2, calls.toString()));
        assertEquals(Set.of("a", "b", "c", "d"), applied);
    }

    @Test
    void aRefusedGroupIsWrittenAgainItemByItemSoOnlyTheBadItemFails() throws Exception {
        writeWhileTheFirstIsInFlight(8, List.of("b", "bad", "d"));

        assertEquals(Set.of("a", "b", "d"), applied);
        assertInstanceOf(IllegalStateException.class, outcomes.get("bad"));
        assertEquals("refused a write holding bad", ((Exception) outcomes.get("bad")).getMessage());
        for (String fine : List.of("a", "b", "d")) {
            assertEquals(RETURNED, outcomes.get(fine), fine);
        }
        // the group of three, then each of its items alone
        assertEquals(3, calls.get(1).size(), calls.toString());
        assertEquals(5, calls.size(), calls.toString());
    }

    @Test
    void aFailureTheGroupSharesFailsEveryMemberWithoutWritingThemAgain() throws Exception {
        writeWhileTheFirstIsInFlight(8, List.of("b", "slow", "d"));

        assertEquals(Set.of("a"), applied);
        for (String member : List.of("b", "slow", "d")) {
            assertInstanceOf(TransientJobException.class, outcomes.get(member), member);
            assertEquals("timed out writing 3", ((Exception) outcomes.get(member)).getMessage());
        }
        assertEquals(2, calls.size(), calls.toString());
    }

    @Test
    void aLoneWriteFailsItsCallerWithItsOwnException() {
        GroupCommit<String> commit = new GroupCommit<>(this::store, GroupCommitTest::timedOut, 8);
        firstWriteMayReturn.countDown();

        IllegalStateException e = assertThrows(IllegalStateException.class, () -> commit.write("bad"));

        assertEquals("refused a write holding bad", e.getMessage());
        assertEquals(1, calls.size(), "not written again");
    }

    @Test
    void aCallerInterruptedWhileQueuedIsNotWrittenAndFailsTransiently() throws Exception {
        GroupCommit<String> commit = new GroupCommit<>(this::store, GroupCommitTest::timedOut, 8);
        startWriter(commit, "a");
        await(firstWriteStarted);
        Thread queued = startWriter(commit, "b");
        awaitAllWaiting();

        queued.interrupt();
        queued.join(5_000);
        firstWriteMayReturn.countDown();
        joinAll();

        assertInstanceOf(TransientJobException.class, outcomes.get("b"));
        assertFalse(applied.contains("b"));
        assertEquals(List.of(List.of("a")), calls);
    }

    /**
     * "a" writes alone and is held in flight until {@code others}, written from their own threads, all wait for it;
     * then it returns, and every writer has finished when this does.
     */
    private void writeWhileTheFirstIsInFlight(int maxGroup, List<String> others) throws InterruptedException {
        GroupCommit<String> commit = new GroupCommit<>(this::store, GroupCommitTest::timedOut, maxGroup);
        startWriter(commit, "a");
        await(firstWriteStarted);
        for (String item : others) {
            startWriter(commit, item);
        }
        awaitAllWaiting();

        firstWriteMayReturn.countDown();
        joinAll();
    }

    private static boolean timedOut(RuntimeException e) {
        return e.getMessage().startsWith("timed out");
    }

    private Thread startWriter(GroupCommit<String> commit, String item) {
        Thread t = Thread.ofPlatform().name("writer-" + item).start(() -> {
            try {
                commit.write(item);
                outcomes.put(item, RETURNED);
            } catch (RuntimeException e) {
                outcomes.put(item, e);
            }
        });
        threads.add(t);
        return t;
    }

    /** Every writer but the first is parked on the group commit's condition. */
    private void awaitAllWaiting() throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        for (Thread t : threads.subList(1, threads.size())) {
            while (t.getState() != Thread.State.WAITING) {
                assertTrue(System.nanoTime() < deadline, t.getName() + " never waited: " + t.getState());
                Thread.sleep(5);
            }
        }
    }

    private void joinAll() throws InterruptedException {
        for (Thread t : threads) {
            t.join(10_000);
            assertFalse(t.isAlive(), t.getName() + " still writing");
        }
    }

    private static void await(CountDownLatch latch) {
        try {
            assertTrue(latch.await(10, TimeUnit.SECONDS), "timed out");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
