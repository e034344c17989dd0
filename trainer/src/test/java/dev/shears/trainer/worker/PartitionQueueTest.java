package dev.shears.trainer.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.trainer.worker.PartitionQueue.Disposition;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** One partition's queue without Kafka: items are names, "applying" one is a future the test completes. */
class PartitionQueueTest {
    static final Duration BACKOFF = Duration.ofSeconds(1);

    final AtomicLong now = new AtomicLong(1_000);
    final PartitionQueue<String> queue = new PartitionQueue<>(3, BACKOFF, now::get);
    /** The futures of the items started, in order. */
    final List<CompletableFuture<Disposition>> applying = new ArrayList<>();

    static PartitionQueue.Item<String> step(String name, String job) {
        return new PartitionQueue.Item<>(name, job, Optional.empty(), Instant.EPOCH);
    }

    static PartitionQueue.Item<String> cancel(String name, String job) {
        return new PartitionQueue.Item<>(name, job, Optional.of("by the test"), Instant.EPOCH);
    }

    Optional<PartitionQueue.Running<String>> startNext() {
        return queue.startNext(r -> {
            CompletableFuture<Disposition> f = new CompletableFuture<>();
            applying.add(f);
            return f;
        });
    }

    /** Completes the running item with {@code d} and collects it. */
    PartitionQueue.Finished<String> finish(Disposition d) throws Exception {
        applying.get(applying.size() - 1).complete(d);
        return queue.finished(Duration.ZERO).orElseThrow();
    }

    @Test
    void appliesOneItemAtATimeInOrderAndRemovesItOnlyOnceCommitted() throws Exception {
        queue.add(step("a", "job-x"));
        queue.add(step("b", "job-y"));

        assertThat(startNext()).map(r -> r.item().value()).contains("a");
        assertThat(startNext()).as("a runs").isEmpty();
        assertThat(queue.finished(Duration.ZERO)).as("a is still running").isEmpty();
        assertThat(finish(Disposition.COMMIT).item().value()).isEqualTo("a");
        assertThat(queue.size()).isEqualTo(1);
        assertThat(startNext()).map(r -> r.item().value()).contains("b");
    }

    @Test
    void anItemToBeTriedAgainWaitsItsBackoffAndStaysFirst() throws Exception {
        queue.add(step("a", "job-x"));
        queue.add(step("b", "job-x"));
        startNext();
        finish(Disposition.RETRY);

        assertThat(startNext()).isEmpty();
        now.addAndGet(BACKOFF.toNanos() - 1);
        assertThat(startNext()).isEmpty();
        now.addAndGet(1);
        assertThat(startNext()).map(r -> r.item().value()).contains("a");
    }

    @Test
    void aStoppedItemStaysFirstForWhoeverAppliesThePartitionNext() throws Exception {
        queue.add(step("a", "job-x"));
        startNext();
        finish(Disposition.STOPPED);

        assertThat(queue.size()).isEqualTo(1);
        assertThat(startNext()).map(r -> r.item().value()).contains("a");
    }

    @Test
    void aFailureOfTheCodeApplyingAnItemCountsAsARetry() throws Exception {
        queue.add(step("a", "job-x"));
        startNext();
        applying.get(0).completeExceptionally(new IllegalStateException("a defect"));

        assertThat(queue.finished(Duration.ZERO)).map(PartitionQueue.Finished::disposition).contains(Disposition.RETRY);
    }

    @Test
    void isFullAtItsCapacityCountingTheRunningItem() throws Exception {
        queue.add(step("a", "job-x"));
        startNext();
        queue.add(step("b", "job-x"));
        assertThat(queue.full()).isFalse();
        queue.add(step("c", "job-x"));
        assertThat(queue.full()).isTrue();

        finish(Disposition.COMMIT);
        assertThat(queue.full()).isFalse();
    }

    @Test
    void aCancelJobArrivingBehindTheRunningStepOfItsJobStopsIt() {
        queue.add(step("a", "job-x"));
        PartitionQueue.Running<String> running = startNext().orElseThrow();

        queue.add(cancel("cancel y", "job-y"));
        assertThat(running.stopRequested()).as("another job's cancel").isFalse();
        queue.add(cancel("cancel x", "job-x"));

        assertThat(running.stopped()).contains(new PartitionQueue.Stop(StopReason.CANCELLED, "cancelled: by the test"));
    }

    @Test
    void anItemWithACancelJobOfItsJobWaitingBehindItStartsStopped() throws Exception {
        queue.add(step("a", "job-x"));
        queue.add(step("b", "job-y"));
        queue.add(cancel("cancel y", "job-y"));

        assertThat(startNext().orElseThrow().stopRequested()).as("a: job-x has no cancel behind it").isFalse();
        finish(Disposition.COMMIT);
        assertThat(startNext().orElseThrow().stopped()).map(PartitionQueue.Stop::reason).contains(StopReason.CANCELLED);
    }

    @Test
    void theFirstReasonToStopWins() {
        queue.add(step("a", "job-x"));
        PartitionQueue.Running<String> running = startNext().orElseThrow();

        running.stop(StopReason.REVOKED, "partition revoked");
        queue.add(cancel("cancel x", "job-x"));

        assertThat(running.stopped()).map(PartitionQueue.Stop::reason).contains(StopReason.REVOKED);
    }

    @Test
    void onlyACancelledStepIsDoneWithOnceStopped() {
        assertThat(StopReason.CANCELLED.abandonsCommand()).isTrue();
        assertThat(StopReason.REVOKED.abandonsCommand()).isFalse();
        assertThat(StopReason.SHUTDOWN.abandonsCommand()).isFalse();
    }

    @Test
    void remembersEveryJobItHeldForTheRevocationToLetGo() throws Exception {
        queue.add(step("a", "job-x"));
        queue.add(new PartitionQueue.Item<>("garbage", null, Optional.empty(), Instant.EPOCH));
        queue.add(step("b", "job-y"));
        startNext();
        finish(Disposition.COMMIT);

        assertThat(queue.jobs()).containsExactly("job-x", "job-y");
    }

    @Test
    void refusesACapacityBelowOne() {
        assertThatThrownBy(() -> new PartitionQueue<String>(0, BACKOFF, now::get)).hasMessageContaining("capacity 0")
                .hasMessageContaining("fix:");
    }
}
