package dev.shears.bench;

import dev.shears.common.events.Topics;
import dev.shears.common.process.SerialFilter;
import dev.shears.deploy.launch.LocalPipeline;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The scheduler at real concurrency (issue 16, item 5): a {@link LocalPipeline} without workers (the broker in this
 * JVM, the scheduler in its own, started as {@code shears scheduler} is in production) and {@link FakeWorker}s in the
 * workers' consumer group that hold each job's dense step for {@code --dense-hold-seconds}, every pruning step for
 * {@code --hold-seconds}, and report progress every
 * {@code --progress-seconds}. {@code --jobs} jobs are submitted through {@code POST /jobs} as fast as they are taken,
 * so that they are all in flight at once, and run to publication.
 *
 * <p>Prints one {@code LOAD} line: the jobs in flight at once (steps the fake workers held at the same moment, the
 * most of samples every 500 ms); the scheduler's reaction twice, from the topics ({@code StepCompleted} created → the
 * job's next command created) and as the workers see it ({@code StepCompleted} sent → the next command read,
 * committed); the scheduler process's CPU seconds over the run ({@link ProcessHandle}); its heap ({@code jstat -gc}
 * every second: the most used, and the most the old generation held); the state topic's size on the broker's disk and
 * its records; the progress reports sent; and whether every job was published with each command and report exactly
 * once. The restart over many ended jobs is {@code SchedulerStateTest}'s ({@code bench/scheduler-load.sh} runs it).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.shears.bench.SchedulerLoad [--jobs 1000] [--steps 3]
 *     [--dense-hold-seconds 180] [--hold-seconds 30]
 * </pre>
 */
@Command(name = "SchedulerLoad", mixinStandardHelpOptions = true,
        description = "Many jobs in flight at once against one scheduler, with slow fake workers.")
public final class SchedulerLoad implements Callable<Integer> {
    @Option(names = "--jobs", defaultValue = "1000", description = "jobs submitted at once (default ${DEFAULT-VALUE})")
    int jobs;

    @Mixin
    SlowWorkers workers;

    @Mixin
    JobLoad load = new JobLoad(3, 20);

    @Option(names = "--scheduler-heap", defaultValue = "1g",
            description = "the scheduler's -Xmx (default ${DEFAULT-VALUE})")
    String schedulerHeap;

    @Mixin
    RunDirectory dir;

    public static void main(String[] args) {
        SerialFilter.install();
        System.exit(new CommandLine(new SchedulerLoad()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path work = dir.orTemporary("scheduler-load");
        LocalPipeline.Options defaults = LocalPipeline.Options.defaults();
        LocalPipeline.Options options = new LocalPipeline.Options(0, "load", defaults.partitions(), 0, 0,
                defaults.sessionTimeoutMs(), List.of("-Xmx" + schedulerHeap), defaults.env(),
                defaults.startupTimeout(), defaults.dataRoots(), defaults.modelRoots());
        Topics topics = new Topics(options.topicPrefix());
        try (LocalPipeline pipeline = LocalPipeline.start(work, options)) {
            List<FakeWorker> fakes = workers.start(pipeline.bootstrapServers(), topics);
            ProcessHandle scheduler = ProcessHandle.of(pipeline.scheduler().pid()).orElseThrow();
            Duration cpu0 = scheduler.info().totalCpuDuration().orElse(Duration.ZERO);
            HeapWatch heap = new HeapWatch(pipeline.scheduler().pid());
            InFlightWatch inFlight = new InFlightWatch(fakes);
            SchedulerApi api = new SchedulerApi(pipeline.schedulerUrl());
            long start = System.nanoTime();
            int accepted = load.submit(api, jobs, i -> String.format(Locale.ROOT, "load-%05d", i));
            double submitSeconds = (System.nanoTime() - start) / 1e9;
            int published = load.awaitPublished(api, accepted, start,
                    () -> fakes.stream().mapToInt(FakeWorker::published).sum());
            double runSeconds = (System.nanoTime() - start) / 1e9;
            Duration cpu = scheduler.info().totalCpuDuration().orElse(Duration.ZERO).minus(cpu0);
            inFlight.close();
            heap.close();
            Samples delivered = new Samples();
            for (FakeWorker w : fakes) {
                w.close();
                w.reactions(delivered);
            }
            TopicHistory history = TopicHistory.read(pipeline.bootstrapServers(), topics);
            List<String> violations = load.exactlyOnce(history, jobs);
            Samples created = history.reactions();
            StateTopic state = StateTopic.of(pipeline.bootstrapServers(), topics.state());
            System.out.printf(Locale.ROOT, "LOAD jobs=%d steps=%d %s accepted=%d published=%d submit_s=%.1f run_s=%.1f"
                    + " max_in_flight=%d progress_reports=%d reaction_n=%d reaction_p50_ms=%.1f reaction_p99_ms=%.1f reaction_max_ms=%.1f"
                    + " delivered_n=%d delivered_p50_ms=%.1f delivered_p99_ms=%.1f delivered_max_ms=%.1f"
                    + " scheduler_cpu_s=%.2f heap_used_max_mb=%.1f old_used_max_mb=%.1f heap_samples=%d"
                    + " state_bytes=%d state_records=%d exactly_once=%s violations=%d%n",
                    jobs, load.steps, workers.describe(), accepted, published,
                    submitSeconds, runSeconds, inFlight.max(), fakes.stream().mapToInt(FakeWorker::progressSent).sum(),
                    created.count(),
                    created.percentile(0.5), created.percentile(0.99), created.max(), delivered.count(),
                    delivered.percentile(0.5), delivered.percentile(0.99), delivered.max(), cpu.toNanos() / 1e9,
                    heap.maxUsedMb(), heap.maxOldMb(), heap.samples(), state.bytes(), state.records(),
                    violations.isEmpty(), violations.size());
            violations.stream().limit(10).forEach(v -> System.out.println("VIOLATION " + v));
            return published == jobs && violations.isEmpty() ? 0 : 1;
        }
    }

    /** The steps the fake workers hold, sampled every 500 ms; the most at once. */
    private static final class InFlightWatch implements AutoCloseable {
        private final AtomicLong max = new AtomicLong();
        private final Thread thread;
        private volatile boolean running = true;

        InFlightWatch(List<FakeWorker> workers) {
            thread = new Thread(() -> {
                while (running) {
                    max.accumulateAndGet(workers.stream().mapToInt(FakeWorker::held).sum(), Math::max);
                    try {
                        Thread.sleep(500);
                    } catch (InterruptedException e) {
                        return;
                    }
                }
            }, "in-flight-watch");
            thread.start();
        }

        long max() {
            return Math.max(max.get(), 0);
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join();
        }
    }

    /**
     * A JVM's heap, every second, from {@code jstat -gc} (which reads the JVM's performance counters, no attach): the
     * most used (survivors, eden and old generation together) and the most the old generation held.
     */
    private static final class HeapWatch implements AutoCloseable {
        private final Process jstat;
        private final Thread reader;
        private double maxUsedKb;
        private double maxOldKb;
        private int samples;

        HeapWatch(long pid) throws IOException {
            jstat = new ProcessBuilder("jstat", "-gc", Long.toString(pid), "1000").redirectErrorStream(true).start();
            reader = new Thread(this::read, "heap-watch");
            reader.start();
        }

        private void read() {
            try (BufferedReader in = new BufferedReader(new InputStreamReader(jstat.getInputStream(),
                    StandardCharsets.UTF_8))) {
                String[] header = null;
                for (String line; (line = in.readLine()) != null;) {
                    String[] f = line.trim().split("\\s+");
                    if (f.length > 0 && f[0].equals("S0C")) {
                        header = f;
                    } else if (header != null && f.length == header.length) {
                        double used = 0;
                        double old = 0;
                        for (int i = 0; i < f.length; i++) {
                            switch (header[i]) {
                                case "S0U", "S1U", "EU" -> used += Double.parseDouble(f[i]);
                                case "OU" -> {
                                    old = Double.parseDouble(f[i]);
                                    used += old;
                                }
                                default -> {
                                }
                            }
                        }
                        synchronized (this) {
                            maxUsedKb = Math.max(maxUsedKb, used);
                            maxOldKb = Math.max(maxOldKb, old);
                            samples++;
                        }
                    }
                }
            } catch (IOException | NumberFormatException e) {
                // jstat ended (the JVM exited) or printed something else: the samples so far stand
            }
        }

        synchronized double maxUsedMb() {
            return maxUsedKb / 1024;
        }

        synchronized double maxOldMb() {
            return maxOldKb / 1024;
        }

        synchronized int samples() {
            return samples;
        }

        @Override
        public void close() throws InterruptedException {
            jstat.destroy();
            reader.join(5_000);
        }
    }

    /** A topic's size on the broker's disks (every replica's log) and its records (the end offsets). */
    record StateTopic(long bytes, long records) {
        static StateTopic of(String bootstrap, String topic) throws Exception {
            Properties p = new Properties();
            p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            long bytes = 0;
            List<TopicPartition> partitions = new ArrayList<>();
            try (Admin admin = Admin.create(p)) {
                List<Integer> brokers = admin.describeCluster().nodes().get().stream().map(n -> n.id()).toList();
                for (Map<String, LogDirDescription> dirs : admin.describeLogDirs(brokers).allDescriptions().get()
                        .values()) {
                    for (LogDirDescription d : dirs.values()) {
                        for (Map.Entry<TopicPartition, ReplicaInfo> r : d.replicaInfos().entrySet()) {
                            if (r.getKey().topic().equals(topic)) {
                                bytes += r.getValue().size();
                                partitions.add(r.getKey());
                            }
                        }
                    }
                }
            }
            Properties c = new Properties();
            c.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
            long records = 0;
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c, new ByteArrayDeserializer(),
                    new ByteArrayDeserializer())) {
                for (long end : consumer.endOffsets(partitions, Duration.ofSeconds(30)).values()) {
                    records += end;
                }
            }
            return new StateTopic(bytes, records);
        }
    }
}
