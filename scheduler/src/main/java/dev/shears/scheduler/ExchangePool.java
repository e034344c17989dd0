package dev.shears.scheduler;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The HTTP server's executor: a fixed pool of threads whose exchanges may spend at most {@code timeout} reading the
 * request and writing the answer. An exchange over it is interrupted, which closes its connection (the JDK server
 * reads and writes through interruptible channels), so a slow or silent client holds a thread for {@code timeout} at
 * most and one such client never holds them all. Time an exchange spends in {@link #waiting} (for the engine) does
 * not count.
 */
final class ExchangePool implements Executor, AutoCloseable {

    private final long timeoutNanos;
    private final ExecutorService threads;
    private final ScheduledExecutorService watchdog;
    /** The deadline of each thread's exchange, in {@link System#nanoTime()}; {@link Long#MAX_VALUE} while it waits. */
    private final Map<Thread, Long> deadlines = new ConcurrentHashMap<>();

    ExchangePool(int size, Duration timeout) {
        this.timeoutNanos = timeout.toNanos();
        AtomicInteger n = new AtomicInteger();
        this.threads = Executors.newFixedThreadPool(size,
                r -> daemon(r, "shears-scheduler-http-" + n.incrementAndGet()));
        this.watchdog = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "shears-scheduler-http-deadlines"));
        long period = Math.max(50, Math.min(1000, timeout.toMillis() / 4));
        watchdog.scheduleAtFixedRate(this::interruptLate, period, period, TimeUnit.MILLISECONDS);
    }

    @Override
    public void execute(Runnable exchange) {
        threads.execute(() -> {
            Thread me = Thread.currentThread();
            deadlines.put(me, System.nanoTime() + timeoutNanos);
            try {
                exchange.run();
            } finally {
                synchronized (this) {
                    deadlines.remove(me);
                    Thread.interrupted(); // an interrupt meant for this exchange must not reach the next one
                }
            }
        });
    }

    /**
     * Runs {@code work} on the calling exchange's thread without its deadline running; the exchange then has a full
     * {@code timeout} to write its answer.
     */
    <T> T waiting(Callable<T> work) throws Exception {
        Thread me = Thread.currentThread();
        boolean exchange = deadlines.replace(me, Long.MAX_VALUE) != null;
        try {
            return work.call();
        } finally {
            if (exchange) {
                deadlines.replace(me, System.nanoTime() + timeoutNanos);
            }
        }
    }

    private synchronized void interruptLate() {
        long now = System.nanoTime();
        deadlines.forEach((thread, deadline) -> {
            if (now - deadline > 0 && deadline != Long.MAX_VALUE) {
                deadlines.replace(thread, Long.MAX_VALUE);
                thread.interrupt();
            }
        });
    }

    @Override
    public void close() {
        watchdog.shutdownNow();
        threads.shutdownNow();
    }

    private static Thread daemon(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }
}
