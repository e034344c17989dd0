package dev.shears.scheduler;

import dev.shears.common.events.Rejection;
import dev.shears.common.events.SchedulerDecision;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.ToDoubleFunction;

/** The scheduler's meters: base units, tags bounded by event types, decision codes, states and job ids. */
final class SchedulerMetrics {

    static final String SERVICE = "scheduler";

    private final MeterRegistry registry;
    private final Map<String, JobSnapshot> views;
    private final Set<String> jobsSeen = ConcurrentHashMap.newKeySet();
    private final AtomicLong lag = new AtomicLong();

    SchedulerMetrics(MeterRegistry registry, Map<String, JobSnapshot> views) {
        this.registry = registry;
        this.views = views;
        for (JobState state : JobState.values()) {
            Gauge.builder("shears.scheduler.jobs", views, v -> v.values().stream().filter(j -> j.state() == state).count())
                    .description("jobs by state").tag("state", state.label()).register(registry);
        }
        Gauge.builder("shears.consumer.lag", lag, AtomicLong::get).tag("service", SERVICE)
                .description("reports not yet read, summed over the assigned partitions").register(registry);
        // At 0 from the start: a counter that first appears at 1 shows no increase, and its alert would not fire.
        for (Rejection.Reason reason : Rejection.Reason.values()) {
            deadLetters(reason.code());
        }
        SchedulerDecision.CODES.forEach(this::decisions);
    }

    void consumed(String type) {
        Counter.builder("shears.events.consumed").tag("type", type).tag("service", SERVICE).register(registry).increment();
    }

    void produced(String type) {
        Counter.builder("shears.events.produced").tag("type", type).tag("service", SERVICE).register(registry).increment();
    }

    void deadLettered(String reason) {
        deadLetters(reason).increment();
    }

    /** A report not acted upon: {@code duplicate}, {@code superseded}, {@code ignored}, {@code unknown_job}. */
    void ignored(String reason) {
        Counter.builder("shears.scheduler.reports.ignored").tag("reason", reason).register(registry).increment();
    }

    private Counter deadLetters(String reason) {
        return Counter.builder("shears.events.deadlettered").description("records sent to a dead-letter topic, by reason")
                .tag("reason", reason).tag("service", SERVICE).register(registry);
    }

    private Counter decisions(String code) {
        return Counter.builder("shears.scheduler.decisions").description("accuracy-budget and recovery decisions, by code")
                .tag("decision", code).register(registry);
    }

    void decision(String code) {
        decisions(code).increment();
    }

    void stepDuration(String job, Duration duration) {
        Timer.builder("shears.scheduler.step.duration").description("from a command sent to its StepCompleted accepted")
                .tag("job", job).register(registry).record(duration);
    }

    void lag(long records) {
        lag.set(records);
    }

    /** Registers the per-job gauges the first time a job is seen. */
    void job(String job) {
        if (!jobsSeen.add(job)) {
            return;
        }
        jobGauge("shears.scheduler.job.sparsity.target", job, JobSnapshot::targetSparsity);
        jobGauge("shears.scheduler.job.sparsity.achieved", job, JobSnapshot::achievedSparsity);
        jobGauge("shears.scheduler.job.accuracy", job, JobSnapshot::accuracy);
        jobGauge("shears.scheduler.job.test.accuracy", job, JobSnapshot::testAccuracy);
        jobGauge("shears.scheduler.job.accuracy.floor", job, JobSnapshot::accuracyFloor);
        Gauge.builder("shears.scheduler.job.step", views, v -> v.containsKey(job) ? v.get(job).step() : Double.NaN)
                .tag("job", job).register(registry);
    }

    private void jobGauge(String name, String job, java.util.function.Function<JobSnapshot, Double> field) {
        ToDoubleFunction<Map<String, JobSnapshot>> f = v -> {
            JobSnapshot s = v.get(job);
            Double d = s == null ? null : field.apply(s);
            return d == null ? Double.NaN : d;
        };
        Gauge.builder(name, views, f).tag("job", job).register(registry);
    }
}
