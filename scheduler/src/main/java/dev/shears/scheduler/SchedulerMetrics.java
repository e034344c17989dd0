package dev.shears.scheduler;

import dev.shears.common.events.Rejection;
import dev.shears.common.events.SchedulerDecision;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.BooleanSupplier;
import java.util.function.ToDoubleFunction;

/** The scheduler's meters: base units, tags bounded by event types, decision codes, states and job ids. */
final class SchedulerMetrics {

    static final String SERVICE = "scheduler";

    private final MeterRegistry registry;
    private final Map<String, JobSnapshot> views;
    private final Map<String, Instant> heard;
    /** Each job's meters, so that a forgotten job's go without a scan of the registry. */
    private final Map<String, Set<Meter>> jobMeters = new ConcurrentHashMap<>();
    private final AtomicLong lag = new AtomicLong();

    /**
     * @param views the jobs, read by the per-job gauges
     * @param heard when each waiting job's pending command was last heard of, read by the progress gauge
     */
    SchedulerMetrics(MeterRegistry registry, Map<String, JobSnapshot> views, Map<String, Instant> heard) {
        this.registry = registry;
        this.views = views;
        this.heard = heard;
        for (JobState state : JobState.values()) {
            Gauge.builder("shears.scheduler.jobs", views,
                    v -> v.values().stream().filter(j -> j.state() == state).count())
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
        Counter.builder("shears.events.consumed").tag("type", type).tag("service", SERVICE).register(registry)
                .increment();
    }

    void produced(String type) {
        Counter.builder("shears.events.produced").tag("type", type).tag("service", SERVICE).register(registry)
                .increment();
    }

    void deadLettered(String reason) {
        deadLetters(reason).increment();
    }

    /** A report not acted upon: {@code duplicate}, {@code superseded}, {@code ignored}, {@code unknown_job}. */
    void ignored(String reason) {
        Counter.builder("shears.scheduler.reports.ignored").tag("reason", reason).register(registry).increment();
    }

    private Counter deadLetters(String reason) {
        return Counter.builder("shears.events.deadlettered")
                .description("records sent to a dead-letter topic, by reason")
                .tag("reason", reason).tag("service", SERVICE).register(registry);
    }

    private Counter decisions(String code) {
        return Counter.builder("shears.scheduler.decisions")
                .description("accuracy-budget and recovery decisions, by code")
                .tag("decision", code).register(registry);
    }

    void decision(String code) {
        decisions(code).increment();
    }

    void stepDuration(String job, Duration duration) {
        Timer timer = Timer.builder("shears.scheduler.step.duration")
                .description("from a command sent to its StepCompleted accepted").tag("job", job).register(registry);
        jobMeters.computeIfAbsent(job, j -> ConcurrentHashMap.newKeySet()).add(timer);
        timer.record(duration);
    }

    void lag(long records) {
        lag.set(records);
    }

    /** {@code shears_scheduler_running}: 1 while the engine runs and can write to Kafka, 0 once it stopped. */
    void running(BooleanSupplier up) {
        Gauge.builder("shears.scheduler.running", up, u -> u.getAsBoolean() ? 1 : 0)
                .description("1 while the scheduler's engine runs, 0 once it stopped (it then exits to be restarted)")
                .strongReference(true).register(registry);
    }

    /** Registers the per-job gauges the first time a job is seen. */
    void job(String job) {
        Set<Meter> meters = ConcurrentHashMap.newKeySet();
        if (jobMeters.putIfAbsent(job, meters) != null) {
            return;
        }
        meters.add(jobGauge("shears.scheduler.job.sparsity.target", job, JobSnapshot::targetSparsity));
        meters.add(jobGauge("shears.scheduler.job.sparsity.achieved", job, JobSnapshot::achievedSparsity));
        meters.add(jobGauge("shears.scheduler.job.accuracy", job, JobSnapshot::accuracy));
        meters.add(jobGauge("shears.scheduler.job.test.accuracy", job, JobSnapshot::testAccuracy));
        meters.add(jobGauge("shears.scheduler.job.accuracy.floor", job, JobSnapshot::accuracyFloor));
        meters.add(jobGauge("shears.scheduler.job.step", job, s -> (double) s.step()));
        meters.add(jobGauge("shears.scheduler.job.failed", job, s -> s.state() == JobState.FAILED ? 1.0 : 0.0));
        meters.add(Gauge.builder("shears.scheduler.job.progress.timestamp", heard, h -> {
            Instant at = h.get(job);
            return at == null ? Double.NaN : at.toEpochMilli() / 1000.0;
        }).description("when the job's pending command was last heard of (a report of it), NaN when none is pending")
                .baseUnit("seconds").tag("job", job).register(registry));
    }

    /** Removes the meters of a forgotten job: its gauges and its step durations. */
    void forget(String job) {
        Set<Meter> meters = jobMeters.remove(job);
        if (meters != null) {
            meters.forEach(registry::remove);
        }
    }

    private Gauge jobGauge(String name, String job, java.util.function.Function<JobSnapshot, Double> field) {
        ToDoubleFunction<Map<String, JobSnapshot>> f = v -> {
            JobSnapshot s = v.get(job);
            Double d = s == null ? null : field.apply(s);
            return d == null ? Double.NaN : d;
        };
        return Gauge.builder(name, views, f).tag("job", job).register(registry);
    }
}
