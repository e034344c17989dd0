package dev.shears.scheduler;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.shears.common.events.CancelJob;
import dev.shears.common.events.Event;
import dev.shears.common.events.JobProgress;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.SchedulerDecision;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.DisplayName;
import org.junit.jupiter.api.Test;

/** A command nobody answers is noticed: sent again under its own key, then its job fails, each step an event. */
@DisplayName("Scheduler stalls on a real broker")
class SchedulerStallTest extends BrokerTestBase {

    @Test
    @DisplayName("a PruneStep nothing is heard of is sent again twice under the same key, then the job fails with a"
            + " stalled decision and a CancelJob")
    void aStalledCommandIsResentUnderItsKeyThenTheJobFails() throws Exception {
        SchedulerHttp api = new SchedulerHttp(scheduler(c -> c.withStall(Duration.ofSeconds(1), 2), cause -> {}).uri());
        FakeWorker w = worker();
        w.holdAbove.set(0);
        assertThat(api.submit(recipe("silent", 2)).statusCode()).isEqualTo(201);
        api.awaitState("silent", "failed", Duration.ofSeconds(30));

        // the job's state is committed with its last commands; the worker reads them a moment later
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(w.types("silent")).containsExactly(
                "JobStarted", "PruneStep", "SchedulerDecision", "PruneStep", "SchedulerDecision", "PruneStep",
                "SchedulerDecision", "CancelJob"));
        List<Event> events = w.received.stream().filter(e -> e.jobId().equals("silent")).toList();
        List<PruneStep> steps = events.stream().map(Event::payload).filter(PruneStep.class::isInstance)
                .map(PruneStep.class::cast).toList();
        assertThat(steps).as("the same command, the same key").containsOnly(steps.get(0));
        assertThat(events.stream().filter(e -> e.payload() instanceof PruneStep).map(Event::eventId).distinct())
                .as("each sent anew").hasSize(3);
        assertThat(events).map(Event::payload).filteredOn(SchedulerDecision.class::isInstance)
                .extracting(d -> ((SchedulerDecision) d).decision()).containsExactly("resend", "resend", "stalled");
        assertThat(events.get(events.size() - 1).payload()).isInstanceOf(CancelJob.class);
        assertThat(events.get(events.size() - 1).seq()).isEqualTo(1);
        assertThat(api.job("silent").path("failure").asText()).contains("nothing heard of PruneStep seq 1");
        String metrics = api.metrics();
        assertThat(metrics).contains("shears_scheduler_decisions_total{decision=\"resend\"} 2.0")
                .contains("shears_scheduler_decisions_total{decision=\"stalled\"} 1.0")
                .contains("shears_scheduler_job_failed{job=\"silent\"} 1.0");
    }

    @Test
    @DisplayName("a step that keeps reporting progress is never taken for stalled, and its progress is a gauge")
    void progressKeepsALongStepAlive() throws Exception {
        SchedulerHttp api = new SchedulerHttp(scheduler(c -> c.withStall(Duration.ofSeconds(1), 0), cause -> {}).uri());
        FakeWorker w = worker();
        w.holdAbove.set(0);
        assertThat(api.submit(recipe("busy", 1)).statusCode()).isEqualTo(201);
        api.awaitState("busy", "pruning", Duration.ofSeconds(30));
        ScheduledExecutorService heartbeat = Executors.newSingleThreadScheduledExecutor();
        toClose.add(heartbeat::shutdownNow);
        heartbeat.scheduleAtFixedRate(() -> w.report("busy", 1, new JobProgress(1, 0.5, 100, "fake-0")), 0, 200,
                TimeUnit.MILLISECONDS);
        Thread.sleep(3_000);
        assertThat(api.job("busy").path("state").asText()).isEqualTo("pruning");
        assertThat(api.metrics())
                .containsPattern("shears_scheduler_job_progress_timestamp_seconds\\{job=\"busy\"} 1\\.");
        heartbeat.shutdownNow();
        w.holdAbove.set(Long.MAX_VALUE);
        api.awaitState("busy", "published", Duration.ofSeconds(30));
        assertThat(w.types("busy")).containsExactly("JobStarted", "PruneStep", "Finalize");
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> assertThat(api.metrics())
                .contains("shears_scheduler_job_progress_timestamp_seconds{job=\"busy\"} NaN"));
    }
}
