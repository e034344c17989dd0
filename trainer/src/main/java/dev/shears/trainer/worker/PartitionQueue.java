package dev.shears.trainer.worker;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;
import java.util.function.LongSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One partition's commands, in the order they were read: those waiting, and the one being applied (at the head, until
 * it is done with). Knows nothing of Kafka: the worker adds what it polls, {@link #startNext starts} the head on its
 * training thread, collects it when {@link #finished}, and pauses the partition while the queue is {@link #full()}.
 *
 * <ul>
 *   <li><b>Order.</b> One item at a time, in order; an item is removed only once it is done with
 *       ({@link Disposition#COMMIT}). One to be tried again waits {@code retryBackoff} first; a stopped one stays at the
 *       head for whoever applies the partition next.
 *   <li><b>Cancel behind.</b> A {@code CancelJob} added behind the running item of the same job, or waiting behind the
 *       head when it starts, stops it with {@link StopReason#CANCELLED}: training stops at its next batch instead of
 *       running the whole step first.
 * </ul>
 *
 * <p>Used by one thread (the poll thread), except {@link Running}'s stop and started flags, which the thread applying
 * the item reads and sets.
 *
 * @param <T> what an item carries (for the worker, a consumer record and its decoding)
 */
final class PartitionQueue<T> {
    private static final Logger log = LoggerFactory.getLogger(PartitionQueue.class);

    /** What became of an item: done with (commit its offset), to be tried again, or stopped before its effect. */
    enum Disposition {
        COMMIT, RETRY, STOPPED
    }

    /**
     * A command read from the partition.
     *
     * @param value what the worker needs to apply it
     * @param jobId its job, or null when it has none (a record that does not decode and has no key)
     * @param cancels the reason, when it is a {@code CancelJob} of {@code jobId}
     * @param received when it was read
     */
    record Item<T>(T value, String jobId, Optional<String> cancels, Instant received) {
        Item {
            Objects.requireNonNull(cancels, "cancels");
            Objects.requireNonNull(received, "received");
        }
    }

    /** Why the running item was asked to stop, with the words for the log. */
    record Stop(StopReason reason, String detail) {
    }

    /** The item being applied, and whether and why it should stop. */
    static final class Running<T> {
        private final Item<T> item;
        private final AtomicReference<Stop> stop = new AtomicReference<>();
        private final AtomicBoolean started = new AtomicBoolean();
        private Future<Disposition> future;

        private Running(Item<T> item) {
            this.item = item;
        }

        Item<T> item() {
            return item;
        }

        /** Asks it to stop at its next batch; the first reason given wins. */
        void stop(StopReason reason, String detail) {
            stop.compareAndSet(null, new Stop(reason, detail));
        }

        /** Why it was asked to stop; empty while it may go on. */
        Optional<Stop> stopped() {
            return Optional.ofNullable(stop.get());
        }

        /** Whether it was asked to stop (what its training checks before every batch). */
        boolean stopRequested() {
            return stop.get() != null;
        }

        /** Called by the thread applying it when it begins. */
        void markStarted() {
            started.set(true);
        }

        /** Whether the thread applying it has begun (else, once stopped, it will do nothing). */
        boolean started() {
            return started.get();
        }

        /**
         * Waits up to {@code wait} for it to finish: its disposition, or empty while it still runs. A failure of the
         * code applying it counts as {@link Disposition#RETRY}.
         */
        Optional<Disposition> await(Duration wait) throws InterruptedException {
            try {
                return Optional.of(future.get(wait.toNanos(), TimeUnit.NANOSECONDS));
            } catch (TimeoutException stillRunning) {
                return Optional.empty();
            } catch (ExecutionException e) {
                log.error("applying a command of job {} failed; it is tried again", item.jobId(), e.getCause());
                return Optional.of(Disposition.RETRY);
            }
        }
    }

    private final int capacity;
    private final long retryBackoffNanos;
    private final LongSupplier nanoTime;
    private final ArrayDeque<Item<T>> items = new ArrayDeque<>();
    private final Set<String> jobs = new LinkedHashSet<>();
    private Running<T> running;
    /** When the head may be tried again (a {@link #nanoTime} reading), or null when it need not wait. */
    private Long retryAt;

    /**
     * @param capacity items held (the running one included) at which the queue is {@link #full()}, at least 1
     * @param retryBackoff how long an item to be tried again waits
     * @param nanoTime the clock of the backoff ({@link System#nanoTime} but in tests)
     */
    PartitionQueue(int capacity, Duration retryBackoff, LongSupplier nanoTime) {
        if (capacity < 1) {
            throw new IllegalArgumentException("capacity " + capacity + " is below 1 (fix: e.g. max.poll.records, 10)");
        }
        this.capacity = capacity;
        this.retryBackoffNanos = retryBackoff.toNanos();
        this.nanoTime = nanoTime;
    }

    /** Adds an item at the end; a {@code CancelJob} of the running item's job stops it. */
    void add(Item<T> item) {
        items.addLast(item);
        if (item.jobId() != null) {
            jobs.add(item.jobId());
        }
        if (running != null && item.cancels().isPresent() && item.jobId().equals(running.item.jobId())) {
            running.stop(StopReason.CANCELLED, "cancelled: " + item.cancels().get());
        }
    }

    /** Whether it holds {@code capacity} items or more: the worker stops fetching the partition until it is not. */
    boolean full() {
        return items.size() >= capacity;
    }

    /** Items held, the running one included. */
    int size() {
        return items.size();
    }

    /** Every job an item of this queue belonged to, in the order first seen. */
    Set<String> jobs() {
        return Collections.unmodifiableSet(jobs);
    }

    /** The item being applied, if any. */
    Optional<Running<T>> running() {
        return Optional.ofNullable(running);
    }

    /**
     * Starts the head item when none runs and its backoff is over: {@code launch} applies it on another thread and
     * returns its future. An item with a {@code CancelJob} of its job waiting behind it starts stopped.
     */
    Optional<Running<T>> startNext(Function<Running<T>, Future<Disposition>> launch) {
        if (running != null || items.isEmpty()) {
            return Optional.empty();
        }
        if (retryAt != null) {
            if (nanoTime.getAsLong() - retryAt < 0) {
                return Optional.empty();
            }
            retryAt = null;
        }
        Item<T> head = items.peekFirst();
        Running<T> next = new Running<>(head);
        if (head.jobId() != null) {
            items.stream().skip(1).filter(i -> head.jobId().equals(i.jobId())).flatMap(i -> i.cancels().stream())
                    .findFirst().ifPresent(why -> next.stop(StopReason.CANCELLED, "cancelled: " + why));
        }
        running = next;
        next.future = launch.apply(next);
        return Optional.of(next);
    }

    /**
     * The running item once it has finished (waiting up to {@code wait}), with what became of it; the queue is free
     * then: a {@link Disposition#COMMIT}ted item is removed, one to {@link Disposition#RETRY retry} waits for its
     * backoff, a {@link Disposition#STOPPED} one stays at the head. Empty while it runs, or when none does.
     */
    Optional<Finished<T>> finished(Duration wait) throws InterruptedException {
        if (running == null) {
            return Optional.empty();
        }
        Optional<Disposition> done = running.await(wait);
        if (done.isEmpty()) {
            return Optional.empty();
        }
        Finished<T> finished = new Finished<>(running.item, done.get());
        running = null;
        switch (done.get()) {
            case COMMIT -> items.pollFirst();
            case RETRY -> retryAt = nanoTime.getAsLong() + retryBackoffNanos;
            case STOPPED -> {
            }
        }
        return Optional.of(finished);
    }

    /** An item that finished, and what became of it. */
    record Finished<T>(Item<T> item, Disposition disposition) {
    }
}
