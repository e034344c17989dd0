package dev.shears.bench;

import dev.shears.broker.EmbeddedKafka;
import dev.shears.common.events.Event;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobProgress;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import dev.shears.common.process.SerialFilter;
import dev.shears.scheduler.SchedulerConfig;
import dev.shears.scheduler.SchedulerService;
import io.micrometer.core.instrument.Gauge;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * How many concurrent jobs one scheduler drives: one embedded broker, and for each N a fresh scheduler in this JVM
 * ({@link SchedulerService}, its own topic prefix) with a fake worker that answers at once ({@link FakeWorker#instant}); N jobs are submitted through
 * {@code POST /jobs} from {@code --clients} threads as fast as they are taken, then all run to publication.
 *
 * <p>Per N it prints one {@code SCALE} line: submission and run times; the scheduler's consumer lag in records
 * ({@code shears.consumer.lag{service=scheduler}}, sampled every 100 ms); its reaction time ({@code StepCompleted} k
 * created → the job's command k + 1 created, from the topics), the lag in time that matters; the events per second
 * over both topics; and whether every job was published with each command and report exactly once. A
 * {@code SCALE_SPLIT} line gives the reaction to reports created while jobs were still being submitted (each
 * submission is a transaction of its own on the scheduler's one thread) and after. It stops after the
 * first N that does not finish within the timeout.
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.shears.bench.SchedulerScale [--jobs 100,500,1000,2000] [--steps 10]
 * </pre>
 */
@Command(name = "SchedulerScale", mixinStandardHelpOptions = true,
        description = "Concurrent jobs one scheduler drives, against an instant fake worker.")
public final class SchedulerScale implements Callable<Integer> {
    @Option(names = "--jobs", split = ",", defaultValue = "100,500,1000,2000",
            description = "job counts, one run each (default ${DEFAULT-VALUE})")
    List<Integer> jobCounts;

    @Option(names = "--steps", defaultValue = "10", description = "schedule steps per job (default ${DEFAULT-VALUE})")
    int steps;

    @Mixin
    Submitters submitters;

    @Mixin
    Deadline deadline = new Deadline(10);

    @Mixin
    RunDirectory dir;

    public static void main(String[] args) {
        SerialFilter.install();
        System.exit(new CommandLine(new SchedulerScale()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path work = dir.orTemporary("scheduler-scale");
        try (EmbeddedKafka kafka = EmbeddedKafka.start(work.resolve("kafka"))) {
            for (int n : jobCounts) {
                if (!run(kafka.bootstrapServers(), n)) {
                    System.out.println("STOP jobs=" + n + " did not finish; larger counts not tried");
                    return 1;
                }
            }
        }
        return 0;
    }

    /** A LeNet-5 recipe of {@code steps} steps for a fake worker: none of it is trained. */
    static String recipe(String job, int steps) {
        return BenchRecipes.lenet5(job, null, 1, steps, 20);
    }

    private boolean run(String bootstrap, int n) throws Exception {
        Topics topics = new Topics("scale" + n);
        SchedulerConfig config = SchedulerConfig.of(bootstrap).withHttp("127.0.0.1", 0).withTopics(topics)
                .withTransactionalId("bench-scale-" + n);
        List<Double> lagSamples = new ArrayList<>();
        int accepted;
        long start;
        long submitted;
        long finished;
        Instant submittedAt;
        int published;
        try (SchedulerService scheduler = SchedulerService.start(config);
                FakeWorker worker = FakeWorker.instant(bootstrap, topics)) {
            Gauge lag = scheduler.registry().find("shears.consumer.lag").tag("service", "scheduler").gauge();
            ScheduledExecutorService sampler = Executors.newSingleThreadScheduledExecutor();
            if (lag != null) {
                sampler.scheduleAtFixedRate(() -> {
                    synchronized (lagSamples) {
                        lagSamples.add(lag.value());
                    }
                }, 0, 100, TimeUnit.MILLISECONDS);
            }
            SchedulerApi api = new SchedulerApi(scheduler.uri());
            start = System.nanoTime();
            accepted = submitters.submit(api, n,
                    i -> recipe(String.format(Locale.ROOT, "scale-%d-%05d", n, i), steps));
            submitted = System.nanoTime();
            submittedAt = Instant.now();
            published = 0;
            while (!deadline.passed(start)) {
                published = api.publishedJobs();
                if (published >= accepted) {
                    break;
                }
                Thread.sleep(worker.published() >= accepted ? 20 : 200);
            }
            finished = System.nanoTime();
            sampler.shutdownNow();
        }
        TopicHistory history = TopicHistory.read(bootstrap, topics);
        List<String> violations = exactlyOnce(history, n, steps);
        Samples reaction = history.reactions();
        Samples whileSubmitting = history.reactions(r -> r.time().isBefore(submittedAt));
        Samples afterwards = history.reactions(r -> !r.time().isBefore(submittedAt));
        Instant first = null;
        Instant last = null;
        for (List<Event> events : Stream.concat(history.commands().values().stream(),
                history.reports().values().stream()).toList()) {
            for (Event e : events) {
                first = first == null || e.time().isBefore(first) ? e.time() : first;
                last = last == null || e.time().isAfter(last) ? e.time() : last;
            }
        }
        double span = first == null ? Double.NaN : Duration.between(first, last).toNanos() / 1e9;
        Samples lagRecords = new Samples();
        synchronized (lagSamples) {
            lagSamples.forEach(lagRecords::add);
        }
        System.out.printf(Locale.ROOT, "SCALE jobs=%d steps=%d clients=%d accepted=%d published=%d submit_s=%.3f"
                + " run_s=%.3f events=%d events_span_s=%.3f events_per_s=%.1f reaction_n=%d reaction_p50_ms=%.3f"
                + " reaction_p90_ms=%.3f reaction_p99_ms=%.3f reaction_max_ms=%.3f lag_samples=%d"
                + " lag_records_p50=%.0f lag_records_p99=%.0f lag_records_max=%.0f undecodable=%d"
                + " exactly_once=%s violations=%d%n"
                + "SCALE_SPLIT jobs=%d while_submitting_n=%d while_submitting_p50_ms=%.3f"
                + " while_submitting_p99_ms=%.3f while_submitting_max_ms=%.3f after_n=%d after_p50_ms=%.3f"
                + " after_p99_ms=%.3f after_max_ms=%.3f%n",
                n, steps, submitters.clients, accepted, published, (submitted - start) / 1e9, (finished - start) / 1e9,
                history.events(), span, history.events() / span, reaction.count(), reaction.percentile(0.5),
                reaction.percentile(0.9), reaction.percentile(0.99), reaction.max(), lagRecords.count(),
                lagRecords.percentile(0.5), lagRecords.percentile(0.99), lagRecords.max(), history.undecodable(),
                violations.isEmpty(), violations.size(),
                n, whileSubmitting.count(), whileSubmitting.percentile(0.5), whileSubmitting.percentile(0.99),
                whileSubmitting.max(), afterwards.count(), afterwards.percentile(0.5), afterwards.percentile(0.99),
                afterwards.max());
        violations.stream().limit(10).forEach(v -> System.out.println("VIOLATION jobs=" + n + " " + v));
        return published == n;
    }

    /**
     * Each of the {@code n} jobs: JobStarted, PruneStep 1..steps, Finalize, each once; StepCompleted 0..steps and
     * ModelPublished, each once (progress reports aside); the violations, empty when there are none.
     */
    static List<String> exactlyOnce(TopicHistory history, int n, int steps) {
        List<String> out = new ArrayList<>();
        if (history.commands().size() != n || history.reports().size() != n) {
            out.add("jobs on commands " + history.commands().size() + ", on reports " + history.reports().size()
                    + ", expected " + n);
        }
        history.commands().forEach((job, events) -> {
            List<String> got = events.stream().map(e -> e.type() + " " + e.seq() + attempt(e)).toList();
            List<String> want = new ArrayList<>();
            want.add("JobStarted 0");
            for (int k = 1; k <= steps; k++) {
                want.add("PruneStep " + k + " attempt 1");
            }
            want.add("Finalize " + (steps + 1));
            if (!got.equals(want) || !(events.get(0).payload() instanceof JobStarted)
                    || !(events.get(events.size() - 1).payload() instanceof Finalize)) {
                out.add("job " + job + " commands " + got);
            }
        });
        history.reports().forEach((job, all) -> {
            List<Event> events = all.stream().filter(e -> !(e.payload() instanceof JobProgress)).toList();
            List<String> got = events.stream().map(e -> e.type() + " " + e.seq()).toList();
            List<String> want = new ArrayList<>();
            for (int k = 0; k <= steps; k++) {
                want.add("StepCompleted " + k);
            }
            want.add("ModelPublished " + (steps + 1));
            if (!got.equals(want)
                    || events.stream().anyMatch(e -> e.payload() instanceof StepCompleted s && s.redelivered())
                    || !(events.get(events.size() - 1).payload() instanceof ModelPublished)) {
                out.add("job " + job + " reports " + got);
            }
        });
        return out;
    }

    private static String attempt(Event e) {
        return e.payload() instanceof PruneStep p ? " attempt " + p.attempt() : "";
    }
}
