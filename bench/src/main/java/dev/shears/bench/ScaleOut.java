package dev.shears.bench;

import dev.shears.common.events.Event;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import dev.shears.common.process.SerialFilter;
import dev.shears.deploy.launch.ChildProcess;
import dev.shears.deploy.launch.LocalPipeline;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.common.ConsumerGroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.apache.kafka.common.utils.Utils;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;

/**
 * Scaling out (issue 16, item 6), with real trainer workers ({@code shears worker}, each its own JVM, as
 * {@link LocalPipeline} starts them) on the real Fashion-MNIST.
 *
 * <p>{@code ScaleOut throughput}: the same two LeNet-5 jobs run by two workers, then by one. Each worker is pinned to
 * its own core ({@code taskset -a -p -c}) and told so ({@code -XX:ActiveProcessorCount=1}, one OpenMP thread). The job
 * ids are chosen so that the two jobs' commands land on partitions of different workers of the two-worker group (a
 * job's commands are keyed by its id). Prints one {@code ASSIGN} line per worker (its partitions of the commands
 * topic, from the consumer group's description), one {@code JOB} line per job (its worker, JobStarted created to
 * ModelPublished created) and {@code THROUGHPUT workers=W} (first JobStarted to last ModelPublished, jobs per hour,
 * each worker's CPU seconds); then {@code RATIO} (one worker's span over two workers', medians over
 * {@code --repeats} alternated runs).
 *
 * <p>{@code ScaleOut idle}: a commands topic of {@code --partitions} P and {@code --workers} W > P workers: the group
 * gives each partition to one worker and W - P workers none ({@code ASSIGN} lines); {@code --jobs} small jobs
 * submitted at once run on the assigned workers only ({@code RAN} lines: each worker's steps; {@code IDLE}: the
 * workers that ran none).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.shears.bench.ScaleOut throughput [--cores 0,1] [--dense-epochs 1]
 * java -cp bench/target/benchmarks.jar dev.shears.bench.ScaleOut idle [--partitions 2] [--workers 3] [--jobs 4]
 * </pre>
 */
@Command(name = "ScaleOut", mixinStandardHelpOptions = true,
        subcommands = {ScaleOut.Throughput.class, ScaleOut.Idle.class},
        description = "Two workers against one on two jobs; a commands topic's partitions against idle workers.")
public final class ScaleOut {
    private static final String GROUP = "shears-workers";
    /** The pipelines' topic prefix. */
    private static final String PREFIX = "scale";

    @Option(names = "--worker-heap", defaultValue = "2g", scope = ScopeType.INHERIT,
            description = "each worker's -Xmx (default ${DEFAULT-VALUE})")
    String workerHeap;

    @Mixin
    Deadline deadline = new Deadline(30);

    @Mixin
    RunDirectory dir;

    public static void main(String[] args) {
        SerialFilter.install();
        System.exit(new CommandLine(new ScaleOut()).execute(args));
    }

    /** The two jobs on two workers, then on one, pinned. */
    @Command(name = "throughput", mixinStandardHelpOptions = true,
            description = "The same two LeNet-5 jobs run by two pinned workers, then by one.")
    static final class Throughput implements Callable<Integer> {
        @ParentCommand
        ScaleOut parent;

        @Mixin
        TrainedJobs jobs = new TrainedJobs(BenchModels.FASHION_MNIST, 1, 3, 100);

        @Option(names = "--cores", split = ",", defaultValue = "0,1",
                description = "the core of worker 1, 2, ... (default ${DEFAULT-VALUE})")
        List<Integer> cores;

        @Option(names = "--repeats", defaultValue = "1",
                description = "runs of each, alternated 2, 1, 2, 1, ... (default ${DEFAULT-VALUE})")
        int repeats;

        /** The two jobs' ids, picked on the first run. */
        private List<String> ids;

        @Override
        public Integer call() throws Exception {
            Path work = parent.work();
            Map<Integer, Samples> spans = new TreeMap<>();
            for (int run = 1; run <= repeats; run++) {
                for (int workers : List.of(2, 1)) {
                    double span = twoJobs(work.resolve("run-" + run + "-workers-" + workers), run, workers);
                    spans.computeIfAbsent(workers, w -> new Samples()).add(span);
                }
            }
            double one = spans.get(1).percentile(0.5);
            double two = spans.get(2).percentile(0.5);
            System.out.printf(Locale.ROOT,
                    "RATIO runs=%d one_worker_span_s=%.1f two_workers_span_s=%.1f speedup=%.2f%n", repeats, one, two,
                    one / two);
            return 0;
        }

        /**
         * The two jobs on a new pipeline of {@code workers} pinned workers (the job ids picked on the first run, so
         * that two workers get one each); prints its {@code ASSIGN}, {@code JOB} and {@code THROUGHPUT} lines.
         *
         * @return the span, first {@code JobStarted} created to last {@code ModelPublished} created, in seconds
         */
        private double twoJobs(Path dir, int run, int workers) throws Exception {
            int partitions = LocalPipeline.Options.defaults().partitions();
            try (LocalPipeline pipeline = parent.start(dir, jobs, workers, partitions)) {
                pin(pipeline);
                Map<String, Set<Integer>> assignment = assignment(pipeline, workers);
                if (ids == null) {
                    ids = jobsOnDifferentWorkers(assignment, partitions);
                }
                List<ProcessHandle> handles = pipeline.workers().stream()
                        .map(w -> ProcessHandle.of(w.pid()).orElseThrow()).toList();
                List<Duration> cpu0 = handles.stream().map(ScaleOut::cpu).toList();
                TopicHistory history = parent.runAll(pipeline, jobs, ids);
                Instant first = null;
                Instant last = null;
                for (String job : ids) {
                    Event started = history.commands().get(job).stream()
                            .filter(e -> e.payload() instanceof JobStarted).findFirst().orElseThrow();
                    Event published = history.reports().get(job).stream()
                            .filter(e -> e.payload() instanceof ModelPublished).findFirst().orElseThrow();
                    first = first == null || started.time().isBefore(first) ? started.time() : first;
                    last = last == null || published.time().isAfter(last) ? published.time() : last;
                    System.out.printf(Locale.ROOT, "JOB run=%d workers=%d job=%s worker=%s seconds=%.1f%n", run,
                            workers, job, workersOf(history, job), TopicHistory.between(started, published) / 1000);
                }
                double span = Duration.between(first, last).toNanos() / 1e9;
                List<String> cpu = new ArrayList<>();
                for (int i = 0; i < handles.size(); i++) {
                    cpu.add(String.format(Locale.ROOT, "%.1f",
                            cpu(handles.get(i)).minus(cpu0.get(i)).toNanos() / 1e9));
                }
                System.out.printf(Locale.ROOT, "THROUGHPUT run=%d workers=%d jobs=%d span_s=%.1f jobs_per_hour=%.1f"
                        + " worker_cpu_s=%s cores=%s %s%n", run, workers, ids.size(), span, ids.size() * 3600 / span,
                        String.join(",", cpu),
                        cores.subList(0, workers).stream().map(String::valueOf).collect(Collectors.joining(",")),
                        jobs.describe());
                return span;
            }
        }

        /** Pins worker i (every thread it has now, and so the threads they start) to {@code cores[i]}. */
        private void pin(LocalPipeline pipeline) throws Exception {
            List<ChildProcess> workers = pipeline.workers();
            if (workers.size() > cores.size()) {
                throw new IllegalArgumentException(workers.size() + " workers but --cores names " + cores.size()
                        + " (fix: one core per worker, e.g. --cores 0,1)");
            }
            for (int i = 0; i < workers.size(); i++) {
                Process p = new ProcessBuilder("taskset", "-a", "-p", "-c", Integer.toString(cores.get(i)),
                        Long.toString(workers.get(i).pid())).redirectErrorStream(true).start();
                String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                if (p.waitFor() != 0) {
                    throw new IllegalStateException("taskset failed for " + workers.get(i).name() + ": " + out
                            + " (fix: install util-linux, or name cores this machine has)");
                }
            }
        }
    }

    /** More workers than the commands topic has partitions. */
    @Command(name = "idle", mixinStandardHelpOptions = true,
            description = "A commands topic of P partitions and W > P workers: which workers get work.")
    static final class Idle implements Callable<Integer> {
        @ParentCommand
        ScaleOut parent;

        @Mixin
        TrainedJobs jobs = new TrainedJobs(BenchModels.FASHION_MNIST, 0, 1, 20);

        @Option(names = "--partitions", defaultValue = "2",
                description = "the commands topic's partitions (default ${DEFAULT-VALUE})")
        int partitions;

        @Option(names = "--workers", defaultValue = "3", description = "workers (default ${DEFAULT-VALUE})")
        int workers;

        @Option(names = "--jobs", defaultValue = "4", description = "jobs submitted at once (default ${DEFAULT-VALUE})")
        int count;

        @Override
        public Integer call() throws Exception {
            try (LocalPipeline pipeline = parent.start(parent.work().resolve("idle"), jobs, workers,
                    partitions)) {
                Map<String, Set<Integer>> assignment = assignment(pipeline, workers);
                List<String> ids = IntStream.rangeClosed(1, count).mapToObj(i -> "idle-" + i).toList();
                TopicHistory history = parent.runAll(pipeline, jobs, ids);
                Map<String, Integer> ran = new TreeMap<>();
                assignment.keySet().forEach(w -> ran.put(w, 0));
                history.reports().values().forEach(events -> events.stream()
                        .filter(e -> e.payload() instanceof StepCompleted)
                        .forEach(e -> ran.merge(((StepCompleted) e.payload()).worker(), 1, Integer::sum)));
                ran.forEach((w, n) -> System.out.printf(Locale.ROOT, "RAN worker=%s steps=%d partitions=%s%n", w, n,
                        assignment.getOrDefault(w, Set.of())));
                List<String> idle = ran.entrySet().stream().filter(e -> e.getValue() == 0).map(Map.Entry::getKey)
                        .toList();
                System.out.printf(Locale.ROOT, "IDLE partitions=%d workers=%d jobs=%d idle_workers=%d idle=%s%n",
                        partitions, workers, count, idle.size(), String.join(",", idle));
                return 0;
            }
        }
    }

    /** {@code --dir}, or a new temporary directory. */
    private Path work() throws IOException {
        return dir.orTemporary("scale-out");
    }

    /**
     * A new local pipeline under {@code under}: {@code workers} workers of {@code --worker-heap}, told they have one
     * core, with {@code jobs}' data root, and a commands topic of {@code commandPartitions} partitions.
     */
    private LocalPipeline start(Path under, TrainedJobs jobs, int workers, int commandPartitions) throws Exception {
        LocalPipeline.Options d = LocalPipeline.Options.defaults();
        return LocalPipeline.start(under, new LocalPipeline.Options(workers, PREFIX, commandPartitions, 0, 0,
                d.sessionTimeoutMs(), List.of("-Xmx" + workerHeap, "-XX:ActiveProcessorCount=1"), d.env(),
                d.startupTimeout(), List.of(jobs.dataRoot()), List.of()));
    }

    /**
     * Submits {@code jobs}' recipe for each of {@code ids}, waits until every one is published, and reads the topics.
     *
     * @throws IllegalStateException when one fails, is cancelled, or is not published within {@code --timeout-minutes}
     */
    private TopicHistory runAll(LocalPipeline pipeline, TrainedJobs jobs, List<String> ids) throws Exception {
        SchedulerApi api = new SchedulerApi(pipeline.schedulerUrl());
        for (String id : ids) {
            api.submit(jobs.recipe(id));
        }
        long start = System.nanoTime();
        for (String id : ids) {
            String state = api.awaitEnd(id, start, deadline, pipeline.logDir());
            if (!state.equals("published")) {
                throw new IllegalStateException("job " + id + " is " + state + "; logs in " + pipeline.logDir());
            }
        }
        return TopicHistory.read(pipeline.bootstrapServers(), new Topics(PREFIX));
    }

    /**
     * Each worker's partitions of the commands topic, by worker id, once the group is stable with all {@code workers}
     * members, every partition assigned, as evenly as can be, and the same for two samples 2 s apart (a joining
     * member first shows with nothing); printed as {@code ASSIGN} lines.
     */
    private static Map<String, Set<Integer>> assignment(LocalPipeline pipeline, int workers) throws Exception {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.bootstrapServers());
        long until = System.nanoTime() + Duration.ofMinutes(2).toNanos();
        try (Admin admin = Admin.create(p)) {
            Map<String, Set<Integer>> previous = null;
            while (true) {
                ConsumerGroupDescription group = describe(admin);
                Map<String, Set<Integer>> out = new TreeMap<>();
                int assigned = 0;
                for (MemberDescription m : group == null ? List.<MemberDescription>of() : group.members()) {
                    Set<Integer> parts = new TreeSet<>();
                    for (TopicPartition tp : m.assignment().topicPartitions()) {
                        parts.add(tp.partition());
                    }
                    assigned += parts.size();
                    out.put(m.clientId().replaceFirst("^shears-worker-", ""), parts);
                }
                int partitions = admin.describeTopics(List.of(commandsTopic())).allTopicNames().get()
                        .get(commandsTopic()).partitions().size();
                boolean balanced = out.values().stream().mapToInt(Set::size).max().orElse(0)
                        - out.values().stream().mapToInt(Set::size).min().orElse(0) <= 1;
                boolean settled = out.size() == workers && assigned == partitions && balanced
                        && group != null && group.state() == ConsumerGroupState.STABLE;
                if (settled && out.equals(previous)) {
                    out.forEach((w, parts) -> System.out.printf(Locale.ROOT,
                            "ASSIGN workers=%d partitions=%d worker=%s assigned=%s%n", workers, partitions, w, parts));
                    return out;
                }
                if (System.nanoTime() > until) {
                    throw new IllegalStateException("group " + GROUP + " not settled after 2 minutes: " + out
                            + " of " + partitions + " partitions");
                }
                previous = settled ? out : null;
                Thread.sleep(2000);
            }
        }
    }

    /** The workers' group, or null while it does not exist yet (no worker has joined). */
    private static ConsumerGroupDescription describe(Admin admin) throws InterruptedException, ExecutionException {
        try {
            return admin.describeConsumerGroups(List.of(GROUP)).all().get().get(GROUP);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) {
                return null;
            }
            throw e;
        }
    }

    private static String commandsTopic() {
        return new Topics(PREFIX).commands();
    }

    /**
     * Two job ids whose commands go to partitions of different workers (the producer's partition of a key:
     * murmur2 of its bytes, modulo the partitions), so that two workers can run them at once.
     */
    private static List<String> jobsOnDifferentWorkers(Map<String, Set<Integer>> assignment, int partitions) {
        Map<String, String> byWorker = new LinkedHashMap<>();
        for (int i = 0; byWorker.size() < 2 && i < 10_000; i++) {
            String job = "scale-" + i;
            int partition = Utils.toPositive(Utils.murmur2(job.getBytes(StandardCharsets.UTF_8))) % partitions;
            assignment.forEach((w, parts) -> {
                if (parts.contains(partition)) {
                    byWorker.putIfAbsent(w, job);
                }
            });
        }
        if (byWorker.size() < 2) {
            throw new IllegalStateException("no two job ids on different workers of " + assignment);
        }
        return List.copyOf(byWorker.values());
    }

    private static String workersOf(TopicHistory history, String job) {
        return history.reports().get(job).stream().filter(e -> e.payload() instanceof StepCompleted)
                .map(e -> ((StepCompleted) e.payload()).worker()).distinct().collect(Collectors.joining("+"));
    }

    private static Duration cpu(ProcessHandle h) {
        return h.info().totalCpuDuration().orElse(Duration.ZERO);
    }
}
