package dev.shears.bench;

import dev.shears.broker.EmbeddedKafka;
import dev.shears.common.events.Event;
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

    @Mixin
    JobLoad load = new JobLoad(10, 10);

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
            accepted = load.submit(api, n, i -> String.format(Locale.ROOT, "scale-%d-%05d", n, i));
            submitted = System.nanoTime();
            submittedAt = Instant.now();
            published = load.awaitPublished(api, accepted, start, worker::published);
            finished = System.nanoTime();
            sampler.shutdownNow();
        }
        TopicHistory history = TopicHistory.read(bootstrap, topics);
        List<String> violations = load.exactlyOnce(history, n);
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
                n, load.steps, load.clients, accepted, published, (submitted - start) / 1e9, (finished - start) / 1e9,
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
}
