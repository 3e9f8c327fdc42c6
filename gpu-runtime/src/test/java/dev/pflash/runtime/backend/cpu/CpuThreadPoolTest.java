package dev.pflash.runtime.backend.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;

class CpuThreadPoolTest {

    @Test
    void everyIndexRunsExactlyOnceAcrossThreads() {
        try (CpuThreadPool pool = new CpuThreadPool(4)) {
            int n = 10_007;
            AtomicIntegerArray hits = new AtomicIntegerArray(n);
            pool.forRange(n, 13, (from, to) -> {
                for (int i = from; i < to; i++) {
                    hits.incrementAndGet(i);
                }
                busyWork();
            });
            for (int i = 0; i < n; i++) {
                assertThat(hits.get(i)).as("index %d", i).isEqualTo(1);
            }
        }
    }

    @Test
    void callsFromSeveralThreadsAtOnceAndNestedCallsEachRunEveryIndexOnce() throws Exception {
        try (CpuThreadPool pool = new CpuThreadPool(3)) {
            int callers = 4;
            int n = 2_000;
            AtomicIntegerArray[] hits = new AtomicIntegerArray[callers];
            Thread[] threads = new Thread[callers];
            for (int c = 0; c < callers; c++) {
                AtomicIntegerArray h = new AtomicIntegerArray(n);
                hits[c] = h;
                threads[c] = new Thread(() -> {
                    for (int round = 0; round < 200; round++) {
                        pool.forRange(n, 50, (from, to) -> pool.forRange(to - from, 7, (a, b) -> {
                            for (int i = from + a; i < from + b; i++) {
                                h.incrementAndGet(i);
                            }
                        }));
                    }
                });
                threads[c].start();
            }
            for (Thread t : threads) {
                t.join();
            }
            for (int c = 0; c < callers; c++) {
                for (int i = 0; i < n; i++) {
                    assertThat(hits[c].get(i)).as("caller %d index %d", c, i).isEqualTo(200);
                }
            }
        }
    }

    @Test
    void manySmallOpsInARowEachCompleteBeforeTheCallReturns() {
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            int[] values = new int[64];
            for (int op = 1; op <= 20_000; op++) {
                int expected = op;
                pool.forRange(values.length, 8, (from, to) -> {
                    for (int i = from; i < to; i++) {
                        values[i] = expected;
                    }
                });
                for (int i = 0; i < values.length; i++) {
                    if (values[i] != op) {
                        throw new AssertionError("op " + op + " index " + i + " holds " + values[i]);
                    }
                }
            }
        }
    }

    @Test
    void aFailingChunkFailsTheCallWithItsException() {
        try (CpuThreadPool pool = new CpuThreadPool(3)) {
            assertThatThrownBy(() -> pool.forRange(100, 1, (from, to) -> {
                if (from == 57) {
                    throw new IllegalStateException("chunk 57 failed");
                }
            })).isInstanceOf(IllegalStateException.class).hasMessage("chunk 57 failed");
            // The pool still works afterwards.
            AtomicIntegerArray hits = new AtomicIntegerArray(10);
            pool.forRange(10, 1, (from, to) -> hits.incrementAndGet(from));
            assertThat(hits.toString()).isEqualTo("[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]");
        }
    }

    @Test
    void oneThreadRunsOnTheCaller() {
        try (CpuThreadPool pool = new CpuThreadPool(1)) {
            Set<String> threads = ConcurrentHashMap.newKeySet();
            pool.forRange(50, 1, (from, to) -> threads.add(Thread.currentThread().getName()));
            assertThat(threads).containsExactly(Thread.currentThread().getName());
        }
        assertThatThrownBy(() -> new CpuThreadPool(0)).hasMessage("threads must be >= 1, got 0");
    }

    @Test
    void grainGivesEachThreadSeveralChunks() {
        try (CpuThreadPool pool = new CpuThreadPool(2)) {
            assertThat(pool.grain(1024, 4)).isEqualTo(128);
            assertThat(pool.grain(10, 4)).isEqualTo(4);
        }
    }

    @Test
    void aClosedPoolRefusesParallelWork() {
        CpuThreadPool pool = new CpuThreadPool(2);
        pool.close();
        assertThatThrownBy(() -> pool.forRange(10, 1, (from, to) -> { }))
                .isInstanceOf(IllegalStateException.class).hasMessage("the CPU backend is closed");
    }

    private static void busyWork() {
        double x = 0;
        for (int i = 0; i < 2000; i++) {
            x += Math.sqrt(i);
        }
        if (x < 0) {
            throw new AssertionError();
        }
    }
}
