package dev.shears.trainer.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Tag;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The trainer's metrics (Micrometer names; Prometheus adds units and {@code _total}): target and
 * achieved sparsity per job and per layer, accuracy and loss per split, training throughput, step
 * and checkpoint durations, checkpoint failures, restores and steps redone on restore. Tags are
 * bounded: {@code job}, {@code layer}, {@code split}, {@code worker}. A job's meters live from its first metric on this
 * worker until {@link #linger} after {@link #jobEnded}, so that a worker running jobs one after another does not keep
 * every job's series, while the scrapes after a job's last step still see its final values (and a {@code rate} over
 * them has the two samples it needs).
 */
public final class TrainerMetrics {
    /**
     * How long, in seconds, a job's meters stay after it ended here by default: two of Prometheus' default one-minute scrape
     * intervals.
     */
    public static final long LINGER_SECONDS = 120;

    /** {@link #LINGER_SECONDS} as a duration. */
    public static final Duration LINGER = Duration.ofSeconds(LINGER_SECONDS);

    private final MeterRegistry registry;
    private final String worker;
    private final Duration linger;
    private final Clock clock;
    private final Map<GaugeKey, AtomicLong> gauges = new ConcurrentHashMap<>();
    /** The jobs that ended here and when; their meters go at the first {@link #sweep} {@link #linger} later. */
    private final Map<String, Instant> ended = new ConcurrentHashMap<>();

    /** A gauge's identity: its name and tags. */
    private record GaugeKey(String name, Tags tags) {
    }

    public TrainerMetrics(MeterRegistry registry, String worker) {
        this(registry, worker, LINGER, Clock.systemUTC());
    }

    /**
     * @param linger how long a job's meters stay after {@link #jobEnded}: at least two scrape intervals, so that the
     *     scrapes see its final values; {@link Duration#ZERO} removes them at once
     * @param clock the time {@code linger} is measured in
     */
    public TrainerMetrics(MeterRegistry registry, String worker, Duration linger, Clock clock) {
        if (linger.isNegative()) {
            throw new IllegalArgumentException("metrics linger " + linger + " is negative (fix: 0 or more seconds)");
        }
        this.registry = registry;
        this.worker = worker;
        this.linger = linger;
        this.clock = clock;
    }

    public MeterRegistry registry() {
        return registry;
    }

    /** Sets a gauge, registering it on first use; values are kept as doubles. */
    private void gauge(String name, String description, Tags tags, double value) {
        AtomicLong bits = gauges.computeIfAbsent(new GaugeKey(name, tags), k -> {
            AtomicLong holder = new AtomicLong(Double.doubleToLongBits(Double.NaN));
            Gauge.builder(name, holder, h -> Double.longBitsToDouble(h.get())).description(description)
                    .tags(tags).register(registry);
            return holder;
        });
        bits.set(Double.doubleToLongBits(value));
    }

    /**
     * {@code shears_worker_info{backend, device, worker} 1}, one series per device: the ND4J backend this worker
     * computes on ({@code CPU}, {@code CUDA}) and its devices ({@code cpu}, {@code cuda:0 <name>}).
     */
    public void backend(dev.shears.trainer.cpu.NativeBackend backend) {
        for (String device : backend.devices()) {
            gauge("shears.worker.info", "the ND4J backend and device this worker computes on (value 1)",
                    Tags.of("backend", backend.backend(), "device", device, "worker", worker), 1);
        }
    }

    public void sparsity(String job, double target, double achieved, Map<String, Double> perLayer) {
        live(job);
        gauge("shears.sparsity.target", "absolute target sparsity of the current step", Tags.of("job", job), target);
        gauge("shears.sparsity.achieved", "achieved sparsity over the pruned parameters", Tags.of("job", job),
                achieved);
        perLayer.forEach((layer, s) -> gauge("shears.layer.sparsity", "achieved sparsity of one parameter",
                Tags.of("job", job, "layer", layer), s));
    }

    public void evaluation(String job, String split, double accuracy, double loss) {
        live(job);
        gauge("shears.accuracy", "accuracy on a split", Tags.of("job", job, "split", split), accuracy);
        gauge("shears.loss", "mean cross-entropy on a split", Tags.of("job", job, "split", split), loss);
    }

    /**
     * The job sessions this worker keeps open and their estimated size in bytes (what its session budget counts); the
     * data sets they share are counted by {@link #dataSets}.
     */
    public void sessions(int open, long bytes) {
        gauge("shears.worker.sessions", "job sessions open on this worker", Tags.of("worker", worker), open);
        gauge("shears.worker.session.bytes", "estimated bytes of the open job sessions", Tags.of("worker", worker),
                bytes);
    }

    /** The heap bytes the data sets this worker loaded hold (streamed ones: their labels only). */
    public void dataSets(long heapBytes) {
        gauge("shears.worker.data.bytes", "heap bytes of the data sets loaded, shared by its sessions",
                Tags.of("worker", worker), heapBytes);
    }

    public void step(String job, int seq, int steps) {
        live(job);
        gauge("shears.step", "the schedule step being worked on (0 = dense pre-training)", Tags.of("job", job), seq);
        gauge("shears.steps", "the number of schedule steps", Tags.of("job", job), steps);
    }

    public void throughput(String job, double samplesPerSecond) {
        live(job);
        gauge("shears.training.throughput", "training samples per second",
                Tags.of("job", job, "worker", worker), samplesPerSecond);
    }

    public void samplesTrained(String job, long samples) {
        live(job);
        Counter.builder("shears.training.samples").description("training samples processed")
                .tags("job", job, "worker", worker).register(registry).increment(samples);
    }

    public void stepDuration(String job, Duration d) {
        live(job);
        Timer.builder("shears.step.duration")
                .description("time of one pruning step: prune, fine-tune, evaluate, checkpoint")
                .tags("job", job).register(registry).record(d);
    }

    public void checkpointDuration(String job, Duration d) {
        live(job);
        Timer.builder("shears.checkpoint.duration").description("time to write and commit a checkpoint")
                .tags("job", job).register(registry).record(d);
    }

    public void checkpointFailed(String job) {
        live(job);
        checkpointFailures(job).increment();
    }

    public void restored(String job, long stepsRedone) {
        live(job);
        restores(job).increment();
        stepsLost(job).increment(stepsRedone);
    }

    /**
     * Registers a job's counters of rare events (checkpoint failures, restores, steps lost) at 0, so that dashboards
     * and alerts see a series, and its rate, before the first one happens.
     */
    public void jobOpened(String job) {
        live(job);
        sweep();
        checkpointFailures(job);
        restores(job);
        stepsLost(job);
    }

    private Counter checkpointFailures(String job) {
        return Counter.builder("shears.checkpoint.failures").description("checkpoint writes that failed")
                .tags("job", job, "worker", worker).register(registry);
    }

    private Counter restores(String job) {
        return Counter.builder("shears.restores").description("jobs resumed from a checkpoint")
                .tags("job", job, "worker", worker).register(registry);
    }

    private Counter stepsLost(String job) {
        return Counter.builder("shears.restore.steps.lost").description("steps that had to be redone after a restore")
                .tags("job", job, "worker", worker).register(registry);
    }

    /**
     * Job {@code job}'s work here is over (it ended, or moved to another worker): its meters (those tagged
     * {@code job=<job>}) go at the first {@link #sweep} {@link #linger} from now, unless the job records a metric here
     * again before that. A metric of the job after they went registers them again, counters from 0.
     */
    public void jobEnded(String job) {
        ended.put(job, clock.instant());
        sweep();
    }

    /**
     * Removes the meters of the jobs that ended {@link #linger} ago or more. Called before every scrape and whenever a
     * job opens or ends here, so a worker nobody scrapes keeps no more than the jobs of the last {@code linger}.
     */
    public void sweep() {
        Instant due = clock.instant().minus(linger);
        for (Map.Entry<String, Instant> e : ended.entrySet()) {
            if (!e.getValue().isAfter(due) && ended.remove(e.getKey(), e.getValue())) {
                remove(e.getKey());
            }
        }
    }

    /** A metric of {@code job}: it is at work here, so its meters stay. */
    private void live(String job) {
        ended.remove(job);
    }

    private void remove(String job) {
        for (Meter m : List.copyOf(registry.getMeters())) {
            if (m.getId().getTags().stream().anyMatch(t -> isJob(t, job))) {
                registry.remove(m);
            }
        }
        // after the registry: a gauge set meanwhile goes to a holder that is dropped here, and registers anew next time
        gauges.keySet().removeIf(k -> k.tags().stream().anyMatch(t -> isJob(t, job)));
    }

    private static boolean isJob(Tag tag, String job) {
        return tag.getKey().equals("job") && tag.getValue().equals(job);
    }

    /** A record read from the commands topic, by event type; {@code service=worker}. */
    public void eventConsumed(String type) {
        Counter.builder("shears.events.consumed").description("events read from Kafka, by type")
                .tags("service", "worker", "type", type, "worker", worker).register(registry).increment();
    }

    /** A report written to Kafka, by event type; {@code service=worker}. */
    public void eventProduced(String type) {
        Counter.builder("shears.events.produced").description("events written to Kafka, by type")
                .tags("service", "worker", "type", type, "worker", worker).register(registry).increment();
    }

    /**
     * How long after its creation (the event's {@code time}, set by the scheduler) a command's effect started being
     * applied: for a {@code PruneStep} the moment its mask is applied, before fine-tuning. Covers the transaction
     * commit, the delivery to this worker, the wait behind earlier commands and opening the job; a histogram
     * ({@code _bucket}, 1 ms to 1 min, for {@code histogram_quantile}) by {@code type}; {@code service=worker}.
     */
    public void commandLatency(String type, Duration d) {
        Timer.builder("shears.worker.command.latency")
                .description("from a command's creation by the scheduler to its effect starting on this worker")
                .tags("service", "worker", "type", type, "worker", worker)
                .publishPercentileHistogram()
                .minimumExpectedValue(Duration.ofMillis(1)).maximumExpectedValue(Duration.ofMinutes(1))
                .register(registry).record(d);
    }

    /** A record that could not be decoded, sent to the dead-letter topic; tagged with the rejection's reason code. */
    public void deadLettered(String reason) {
        deadLetters(reason).increment();
    }

    /**
     * Registers the dead-letter counters of {@code reasons} at 0: a counter that first appears at 1 shows no increase,
     * and the alert on growing dead letters would not fire for the first one.
     */
    public void deadLetterReasons(Iterable<String> reasons) {
        reasons.forEach(this::deadLetters);
    }

    private Counter deadLetters(String reason) {
        return Counter.builder("shears.events.deadlettered")
                .description("records sent to a dead-letter topic, by reason")
                .tags("service", "worker", "reason", reason, "worker", worker).register(registry);
    }

    /** Records of the commands topic not yet read by this worker, over its partitions. */
    public void consumerLag(long records) {
        gauge("shears.consumer.lag", "records of the assigned partitions not yet consumed",
                Tags.of("service", "worker", "worker", worker), records);
    }

    /** Partitions taken from this worker by a rebalance. */
    public void partitionsRevoked(int partitions) {
        Counter.builder("shears.worker.partitions.revoked")
                .description("partitions taken from this worker by rebalances")
                .tags("worker", worker).register(registry).increment(partitions);
    }
}
