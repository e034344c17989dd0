package dev.shears.deploy.faults;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.shears.common.events.Event;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobFailed;
import dev.shears.common.events.JobProgress;
import dev.shears.common.events.JobResumed;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import dev.shears.deploy.launch.ChildProcess;
import dev.shears.deploy.launch.LocalPipeline;
import dev.shears.deploy.pipeline.History;
import dev.shears.deploy.pipeline.TestRecipes;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.io.IOException;
import java.nio.file.ClosedWatchServiceException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardWatchEventKinds;
import java.nio.file.WatchEvent;
import java.nio.file.WatchKey;
import java.nio.file.WatchService;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.io.TempDir;

/**
 * The chaos run: jobs on the committed data subset run to publication on the real pipeline (a KRaft broker, the
 * scheduler and workers, each its own JVM) while this test injects faults, driven by the events it reads live: workers
 * SIGKILLed in the middle of training (the next worker goes on from the step's mid-step checkpoint), right after a
 * {@code StepCompleted} (between checkpoint and commit), when {@code Finalize} is on the topic and while the model is
 * being published (the moment the publisher's temporary version directory appears), each replaced; the scheduler
 * SIGKILLed and restarted; the broker stopped and restarted; a job's checkpoint directory made unwritable during a
 * step; commands and old {@code StepCompleted}s sent again, late and out of order. It then audits the whole history and
 * the published versions on disk ({@link History}) and prints one line per fault kind.
 *
 * <p>The short form runs in {@code mvn verify}, one of each fault. The full form (more jobs and steps, at least 10
 * worker kills):
 *
 * <pre>
 * mvn -B -o verify -pl deploy -am -Dshears.faults=full -Dtest='dev.shears.deploy.faults.*Test' \
 *     -Dsurefire.failIfNoSpecifiedTests=false
 * </pre>
 *
 * {@code -Dshears.faults.seed=N} replays the random choices of a run (the seed is printed).
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class ChaosTest {
    static final boolean FULL = "full".equals(System.getProperty("shears.faults"));
    static final Plan PLAN = FULL ? Plan.full() : Plan.quick();
    static final double FINAL_SPARSITY = 0.8;
    static final double ACCURACY_TOLERANCE = 0.005;
    /** Mid-step checkpoints every this many iterations: a worker killed mid-training leaves one to go on from. */
    static final int MID_STEP_EVERY = 50;
    static final LocalPipeline.Options OPTIONS = TestRecipes.pipeline().withWorkers(2).withSessionTimeoutMs(6000);

    /** The kinds of fault, in the order of the summary. */
    enum Fault {
        WORKER_KILL_TRAINING("kill worker mid-training"),
        WORKER_KILL_AFTER_STEP("kill worker after StepCompleted"),
        WORKER_KILL_FINALIZE("kill worker in finalize"),
        WORKER_KILL_PUBLISHING("kill worker while publishing"),
        SCHEDULER_KILL("kill+restart scheduler"),
        BROKER_RESTART("stop+restart broker"),
        CHECKPOINT_UNWRITABLE("checkpoint dir unwritable"),
        CHECKPOINT_CORRUPT("newest checkpoint corrupt+kill"),
        DUPLICATE_COMMAND("duplicate command"),
        LATE_REPORT("late StepCompleted");

        final String label;

        Fault(String label) {
            this.label = label;
        }

        boolean killsWorker() {
            return this == WORKER_KILL_TRAINING || this == WORKER_KILL_AFTER_STEP || this == WORKER_KILL_FINALIZE
                    || this == WORKER_KILL_PUBLISHING || this == CHECKPOINT_CORRUPT;
        }
    }

    /** How much of each fault a run injects, at most; the worker kills are also a minimum. */
    record Plan(int jobs, int steps, int iterationsPerStep, Map<Fault, Integer> budget, int minWorkerKills,
            Duration timeout) {
        static Plan quick() {
            Map<Fault, Integer> b = new EnumMap<>(Fault.class);
            b.put(Fault.WORKER_KILL_TRAINING, 1);
            b.put(Fault.WORKER_KILL_AFTER_STEP, 1);
            b.put(Fault.WORKER_KILL_FINALIZE, 1);
            b.put(Fault.WORKER_KILL_PUBLISHING, 1);
            b.put(Fault.SCHEDULER_KILL, 1);
            b.put(Fault.BROKER_RESTART, 1);
            b.put(Fault.CHECKPOINT_UNWRITABLE, 1);
            b.put(Fault.CHECKPOINT_CORRUPT, 1);
            b.put(Fault.DUPLICATE_COMMAND, 4);
            b.put(Fault.LATE_REPORT, 4);
            // Four steps of 2,000 iterations, each longer than the quiet time after a kill (8 s): the faults that need
            // a step after the first (a damaged checkpoint of step k - 1) and the scheduler kill after a step get
            // several moments outside those quiet times. Steps of 1,000 iterations were enough until training got
            // faster (ShapeInfoCache); then the quiet times after a broker restart (15 s), a scheduler kill and a
            // worker kill could cover every moment of steps 2 to 4, and a run injected no damaged checkpoint.
            return new Plan(2, 4, 2000, b, 2, Duration.ofMinutes(12));
        }

        static Plan full() {
            Map<Fault, Integer> b = new EnumMap<>(Fault.class);
            b.put(Fault.WORKER_KILL_TRAINING, 6);
            b.put(Fault.WORKER_KILL_AFTER_STEP, 5);
            b.put(Fault.WORKER_KILL_FINALIZE, 2);
            b.put(Fault.WORKER_KILL_PUBLISHING, 2);
            b.put(Fault.SCHEDULER_KILL, 2);
            b.put(Fault.BROKER_RESTART, 1);
            b.put(Fault.CHECKPOINT_UNWRITABLE, 2);
            b.put(Fault.CHECKPOINT_CORRUPT, 2);
            b.put(Fault.DUPLICATE_COMMAND, 20);
            b.put(Fault.LATE_REPORT, 20);
            // Six steps of 500 iterations: enough moments for ten worker kills, eight seconds apart, now that a step
            // trains in a few seconds.
            return new Plan(4, 6, 500, b, 10, Duration.ofMinutes(30));
        }
    }

    /** One fault injected: its kind, the jobs it hit, what was done. */
    record Injection(Fault fault, Set<String> jobs, String detail) {
    }

    @TempDir
    static Path dir;
    LocalPipeline pipeline;
    KafkaProducer<String, byte[]> producer;
    final Topics topics = Topics.defaults();
    final HttpClient http = HttpClient.newHttpClient();
    final long seed = Long.getLong("shears.faults.seed", System.nanoTime());
    final Random random = new Random(seed);

    @BeforeAll
    void start() {
        pipeline = LocalPipeline.start(dir.resolve("pipeline"), OPTIONS);
    }

    @AfterAll
    void stop() {
        if (producer != null) {
            producer.close(Duration.ofSeconds(5));
        }
        if (pipeline != null) {
            pipeline.close();
        }
    }

    @Test
    void jobsSurviveEveryFaultAndEachStepIsAppliedExactlyOnce() throws Exception {
        System.out.printf("chaos run: %s form, seed %d (replay with -Dshears.faults.seed=%d), plan %s%n",
                FULL ? "full" : "short", seed, seed, PLAN);
        // The unfaulted reference: the same recipe trained straight through by `shears train` in a JVM of its own, with
        // the workers' JVM options and environment (one OpenMP thread), beside the faulted run.
        Path referenceRecipe = Files.writeString(dir.resolve("reference.yaml"),
                recipe("reference"));
        ChildProcess reference = ChildProcess.start("reference",
                List.of("train", "--recipe", referenceRecipe.toString(),
                        "--out", dir.resolve("reference").toString(), "--metrics-port", "-1", "--data-root",
                        TestRecipes.DATA_ROOT.toString()),
                OPTIONS.jvmOptions(),
                OPTIONS.env(), dir.resolve("reference.log"), Pattern.compile("shears train: job"),
                Duration.ofMinutes(3));

        List<String> jobs = IntStream.rangeClosed(1, PLAN.jobs()).mapToObj(i -> "chaos-" + i).toList();
        for (String job : jobs) {
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(pipeline.schedulerUrl().resolve("/jobs"))
                    .header("Content-Type", "application/yaml")
                    .POST(HttpRequest.BodyPublishers.ofString(
                            recipe(job)))
                    .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("submit %s: %s", job, r.body()).isEqualTo(201);
        }

        List<Injection> injections = new Injector(jobs).run();

        List<Event> commands = History.readAll(pipeline.bootstrapServers(), topics.commands());
        List<Event> reports = History.readAll(pipeline.bootstrapServers(), topics.reports());
        List<JobResumed> midStep = reports.stream().map(Event::payload)
                .filter(p -> p instanceof JobResumed r && r.resumedIteration() > 0).map(JobResumed.class::cast)
                .toList();
        System.out.printf(Locale.ROOT,
                "steps taken up from their mid-step checkpoints: %d, at iterations %s, losing %s%n",
                midStep.size(), midStep.stream().map(JobResumed::resumedIteration).toList(),
                midStep.stream().map(JobResumed::iterationsLost).toList());
        long prunable = History.lenet5PrunableEntries();
        long expectedPruned = Math.round(FINAL_SPARSITY * prunable);
        Map<String, History.Audit> audits = new LinkedHashMap<>();
        for (String job : jobs) {
            audits.put(job, History.audit(job, commands, reports, PLAN.steps()));
            System.out.println(job + ": " + History.distinct(History.byJob(reports, job)).stream().map(History::brief)
                    .collect(Collectors.joining(", ")));
        }
        printSummary(injections, audits, reports);

        long waitUntil = System.nanoTime() + Duration.ofMinutes(5).toNanos();
        while (reference.isAlive() && System.nanoTime() < waitUntil) {
            sleep(Duration.ofMillis(500));
        }
        assertThat(reference.isAlive()).as("the reference run ended; log %s", reference.log()).isFalse();
        JsonNode unfaulted = new ObjectMapper().readTree(dir.resolve("reference/summary.json").toFile());
        JsonNode referenceLast = unfaulted.path("steps").get(unfaulted.path("steps").size() - 1);
        // what ModelPublished reports: the published model's test accuracy
        double referenceAccuracy = referenceLast.path("testAccuracy").asDouble(Double.NaN);
        List<Double> referenceSteps = new ArrayList<>();
        unfaulted.path("steps").forEach(step -> referenceSteps.add(step.path("accuracy").asDouble()));
        System.out.printf(Locale.ROOT, "unfaulted reference: accuracy by step %s, published %.4f%n", referenceSteps,
                referenceAccuracy);
        for (String job : jobs) {
            System.out.printf(Locale.ROOT, "%s: accuracy by step %s, published %.4f%n", job, History.distinct(
                    History.byJob(reports, job)).stream().filter(
                            e -> e.payload() instanceof StepCompleted s
                                    && !s.redelivered())
                    .map(e -> ((StepCompleted) e.payload()).accuracy()).toList(),
                    audits.get(job).publications().isEmpty() ? Double.NaN : audits.get(job).publication().accuracy());
        }
        for (String job : jobs) {
            History.Audit audit = audits.get(job);
            History.assertExactlyOnce(audit, PLAN.steps(), prunable, expectedPruned);
            assertThat(audit.publication().accuracy()).as("%s: final accuracy against the unfaulted run", job)
                    .isCloseTo(referenceAccuracy, org.assertj.core.data.Offset.offset(ACCURACY_TOLERANCE));
        }
        long kills = injections.stream().filter(i -> i.fault().killsWorker()).count();
        assertThat(kills).as("workers killed: %s", injections).isGreaterThanOrEqualTo(PLAN.minWorkerKills());
        for (Fault f : Fault.values()) {
            if (PLAN.budget().get(f) > 0 && f != Fault.WORKER_KILL_FINALIZE) {
                assertThat(injections).as("at least one %s injected", f.label).anyMatch(i -> i.fault() == f);
            }
        }
        // A checkpoint write that failed failed the step cleanly: a retryable JobFailed for that job, then the step done.
        for (Injection i : injections) {
            if (i.fault() == Fault.CHECKPOINT_UNWRITABLE) {
                String job = i.jobs().iterator().next();
                assertThat(History.byJob(reports, job)).as("%s: a retryable JobFailed while its checkpoints were"
                        + " unwritable", job).anyMatch(e -> e.payload() instanceof JobFailed f && f.retryable());
            }
        }
        // Reasons go to whoever reads the reports topic: none names a path on the workers' disk.
        String workDir = pipeline.workDir().toAbsolutePath().toString();
        assertThat(reports).as("failure reasons naming the workers' work directory %s", workDir)
                .noneMatch(e -> e.payload() instanceof JobFailed f && f.reason().contains(workDir));
        // A damaged checkpoint was found by its digest: the job resumed from the one before it and redid the step.
        for (Injection i : injections) {
            if (i.fault() == Fault.CHECKPOINT_CORRUPT) {
                String job = i.detail().replaceAll(".* of (\\S+) seq .*", "$1");
                assertThat(History.byJob(reports, job)).as("%s: resumed from before the damaged checkpoint (%s)", job,
                        i.detail()).anyMatch(e -> e.payload() instanceof JobResumed r && r.stepsRedone() >= 1);
            }
        }
        HttpResponse<String> health = http.send(HttpRequest.newBuilder(pipeline.schedulerUrl().resolve("/health"))
                .build(), HttpResponse.BodyHandlers.ofString());
        assertThat(health.statusCode()).as("the scheduler serves after the run: %s", health.body()).isEqualTo(200);
        for (String job : jobs) {
            HttpResponse<String> status = http
                    .send(HttpRequest.newBuilder(pipeline.schedulerUrl().resolve("/jobs/" + job))
                            .build(), HttpResponse.BodyHandlers.ofString());
            assertThat(status.body()).as("%s: the scheduler's state", job).contains("\"state\" : \"published\"");
        }
    }

    /** The chaos recipe for {@code job}, with mid-step checkpoints every {@link #MID_STEP_EVERY} iterations. */
    static String recipe(String job) {
        String recipe = TestRecipes.lenet5(job, FINAL_SPARSITY, PLAN.steps(), PLAN.iterationsPerStep());
        assertThat(recipe).contains("  keepLast: 2\n");
        return recipe.replace("  keepLast: 2\n", "  keepLast: 2\n  every: " + MID_STEP_EVERY + "\n");
    }

    /** {@code fault  injected  survived  events  lost  duplicated}, computed from the audits of the jobs each hit. */
    private void printSummary(List<Injection> injections, Map<String, History.Audit> audits, List<Event> reports) {
        System.out.printf("%-34s %8s %8s %7s %5s %10s%n", "fault", "injected", "survived", "events", "lost",
                "duplicated");
        for (Fault f : Fault.values()) {
            List<Injection> of = injections.stream().filter(i -> i.fault() == f).toList();
            int survived = 0;
            int events = 0;
            int lost = 0;
            int duplicated = 0;
            for (Injection i : of) {
                boolean ok = true;
                for (String job : i.jobs()) {
                    History.Audit a = audits.get(job);
                    events += a.events();
                    lost += a.lost();
                    duplicated += a.duplicated();
                    ok &= a.lost() == 0 && a.duplicated() == 0 && a.keysGoingDown().isEmpty()
                            && a.publications().size() == 1;
                }
                survived += ok ? 1 : 0;
            }
            System.out.printf("%-34s %8d %8d %7d %5d %10d%n", f.label, of.size(), survived, events, lost, duplicated);
        }
        long ignored = History.distinct(reports).size();
        System.out.printf("history: %d distinct reports, %d injections: %s%n", ignored, injections.size(),
                injections.stream().map(i -> i.fault().name() + " " + i.detail()).collect(Collectors.joining("; ")));
    }

    /**
     * Reads commands and reports as they come and injects the faults of the plan at the moments they describe, until
     * every job has published or the plan's timeout has passed.
     */
    private final class Injector {
        final List<String> jobs;
        final List<Injection> injections = new ArrayList<>();
        final Map<Fault, Integer> left = new EnumMap<>(PLAN.budget());
        final Map<String, String> workerOf = new HashMap<>();
        final Map<String, List<byte[]>> commandsOf = new HashMap<>();
        final Map<String, List<byte[]>> completedOf = new HashMap<>();
        final Map<String, Path> unwritable = new HashMap<>();
        final Set<String> published = new HashSet<>();
        final Set<String> finalizing = new HashSet<>();
        final Set<String> seen = new HashSet<>();
        final Map<String, Long> corrupted = new HashMap<>();
        final Map<Long, ChildProcess> workerByPid = new ConcurrentHashMap<>();
        long quietUntil;
        int workersStarted = 2;

        Injector(List<String> jobs) {
            this.jobs = jobs;
        }

        List<Injection> run() throws Exception {
            Properties p = new Properties();
            p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, pipeline.bootstrapServers());
            p.put(ProducerConfig.ACKS_CONFIG, "all");
            producer = new KafkaProducer<>(p, new StringSerializer(), new ByteArraySerializer());
            long deadline = System.nanoTime() + PLAN.timeout().toNanos();
            pipeline.workers().forEach(w -> workerByPid.put(w.pid(), w));
            try (KafkaConsumer<String, byte[]> consumer = History.consumer(pipeline.bootstrapServers(), "chaos-live");
                    PublicationKiller publications = new PublicationKiller(
                            PLAN.budget().get(Fault.WORKER_KILL_PUBLISHING))) {
                this.publications = publications;
                consumer.subscribe(List.of(topics.commands(), topics.reports()));
                while (!published.containsAll(jobs)) {
                    assertThat(System.nanoTime()).as("every job published within %s (none stuck); published %s;"
                            + " injected %s; logs in %s", PLAN.timeout(), published, injections, pipeline.logDir())
                            .isLessThan(deadline);
                    for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                        Event e = History.accepted(record);
                        if (!seen.add(e.eventId())) {
                            continue; // a record this test sent again: not a new event to react to
                        }
                        if (record.topic().equals(topics.commands())) {
                            onCommand(e, record.value());
                        } else {
                            onReport(e, record.value());
                        }
                    }
                    for (PublicationKiller.Killed k; (k = publications.killed.poll()) != null;) {
                        onPublicationKill(k);
                    }
                }
            } finally {
                unwritable.values().forEach(d -> ReadOnly.set(d, false));
            }
            return injections;
        }

        PublicationKiller publications;

        void onCommand(Event e, byte[] bytes) throws IOException {
            if (e.payload() instanceof JobStarted || e.payload() instanceof PruneStep) {
                commandsOf.computeIfAbsent(e.jobId(), k -> new ArrayList<>()).add(bytes);
            }
            if (e.payload() instanceof Finalize) {
                publications.arm(e.jobId());
            }
            if (e.payload() instanceof Finalize && finalizing.add(e.jobId()) && workerOf.containsKey(e.jobId())
                    && take(Fault.WORKER_KILL_FINALIZE)) {
                killWorker(Fault.WORKER_KILL_FINALIZE, workerOf.get(e.jobId()), "finalize of " + e.jobId());
            }
        }

        void onReport(Event e, byte[] bytes) throws IOException {
            String job = e.jobId();
            if (e.payload() instanceof JobProgress p) {
                workerOf.put(job, p.worker());
                // Any progress report of a pruning step before its last tenth is a moment inside the step: a step
                // trains in seconds and reports every two, so each fault takes the first moment it gets.
                boolean inStep = p.seq() >= 1 && p.fraction() < 0.9;
                if (inStep && p.seq() >= 2 && !corrupted.containsKey(job) && take(Fault.CHECKPOINT_CORRUPT)) {
                    corruptNewestAndKill(job, p);
                } else if (inStep && take(Fault.WORKER_KILL_TRAINING)) {
                    killWorker(Fault.WORKER_KILL_TRAINING, p.worker(), String.format(Locale.ROOT,
                            "%s seq %d at %.0f %%", job, p.seq(), 100 * p.fraction()));
                } else if (inStep && !unwritable.containsKey(job)
                        && injections.stream()
                                .noneMatch(i -> i.fault() == Fault.CHECKPOINT_UNWRITABLE && i.jobs().contains(job))
                        && take(Fault.CHECKPOINT_UNWRITABLE)) {
                    Path checkpoints = pipeline.workDir().resolve("jobs").resolve(job).resolve("checkpoints");
                    ReadOnly.set(checkpoints, true);
                    assertThat(ReadOnly.writable(checkpoints)).as("%s is unwritable", checkpoints).isFalse();
                    unwritable.put(job, checkpoints);
                    record(Fault.CHECKPOINT_UNWRITABLE, Set.of(job), job + " seq " + p.seq());
                } else if (inStep && take(Fault.BROKER_RESTART)) {
                    restartBroker(String.format(Locale.ROOT, "%s seq %d at %.0f %%", job, p.seq(), 100 * p.fraction()));
                }
            } else if (e.payload() instanceof JobFailed f && f.retryable() && unwritable.containsKey(job)) {
                ReadOnly.set(unwritable.remove(job), false);
                System.out.println("checkpoints of " + job + " writable again after: " + f.reason());
            } else if (e.payload() instanceof JobResumed r) {
                workerOf.put(job, r.worker());
            } else if (e.payload() instanceof ModelPublished) {
                published.add(job);
            } else if (e.payload() instanceof StepCompleted s) {
                workerOf.put(job, s.worker());
                List<byte[]> earlier = completedOf.computeIfAbsent(job, k -> new ArrayList<>());
                earlier.add(bytes);
                if (s.redelivered()) {
                    return;
                }
                if (s.seq() == PLAN.steps()) {
                    publications.arm(job);
                }
                if (s.seq() >= 1 && take(Fault.SCHEDULER_KILL)) {
                    restartScheduler(job + " seq " + s.seq());
                } else if (s.seq() >= 1 && take(Fault.BROKER_RESTART)) {
                    restartBroker("after " + job + " seq " + s.seq());
                } else if (take(Fault.WORKER_KILL_AFTER_STEP)) {
                    killWorker(Fault.WORKER_KILL_AFTER_STEP, s.worker(), job + " seq " + s.seq());
                }
                if (s.seq() >= 1 && take(Fault.LATE_REPORT)) {
                    byte[] old = earlier.get(random.nextInt(earlier.size()));
                    producer.send(new ProducerRecord<>(topics.reports(), job, old));
                    record(Fault.LATE_REPORT, Set.of(job),
                            "an earlier StepCompleted of " + job + " after seq " + s.seq());
                }
                List<byte[]> sent = commandsOf.getOrDefault(job, List.of());
                if (!sent.isEmpty() && take(Fault.DUPLICATE_COMMAND)) {
                    byte[] old = sent.get(random.nextInt(sent.size()));
                    producer.send(new ProducerRecord<>(topics.commands(), job, old));
                    record(Fault.DUPLICATE_COMMAND, Set.of(job),
                            "an earlier command of " + job + " after seq " + s.seq());
                }
            }
        }

        /** Whether a fault of this kind may be injected now; takes it from the budget when so. */
        boolean take(Fault f) {
            if (left.get(f) <= 0 || (f.killsWorker() || f == Fault.SCHEDULER_KILL || f == Fault.BROKER_RESTART)
                    && System.nanoTime() < quietUntil) {
                return false;
            }
            left.merge(f, -1, Integer::sum);
            return true;
        }

        void killWorker(Fault f, String worker, String when) {
            if (!pipeline.worker(worker).isAlive()) {
                left.merge(f, 1, Integer::sum);
                return;
            }
            Set<String> hit = jobsOf(worker);
            pipeline.worker(worker).kill();
            record(f, hit, worker + " (SIGKILL) at " + when);
            replaceWorker();
        }

        /** The unpublished jobs whose last report came from {@code worker}. */
        Set<String> jobsOf(String worker) {
            return workerOf.entrySet().stream().filter(w -> w.getValue().equals(worker))
                    .map(Map.Entry::getKey).filter(j -> !published.contains(j)).collect(Collectors.toSet());
        }

        /** Starts a worker in place of a killed one; then no other kill for a while. */
        void replaceWorker() {
            ChildProcess w = pipeline.startWorker("worker-" + (++workersStarted));
            workerByPid.put(w.pid(), w);
            quietUntil = System.nanoTime() + Duration.ofSeconds(8).toNanos();
        }

        /**
         * A worker the {@link PublicationKiller} killed: a kill during publication when the publisher's temporary
         * directory is still there (the kill came before the rename that publishes), else a kill in finalize just
         * after publishing, and the budget of kills during publication is given back.
         */
        void onPublicationKill(PublicationKiller.Killed k) throws IOException {
            k.worker().kill(); // already SIGKILLed: waits until it is gone
            Set<String> hit = new HashSet<>(jobsOf(k.worker().name()));
            hit.add(k.job());
            if (Files.isDirectory(k.tmp())) {
                List<String> files;
                try (var list = Files.list(k.tmp())) {
                    files = list.map(f -> f.getFileName().toString()).sorted().toList();
                }
                record(Fault.WORKER_KILL_PUBLISHING, hit, k.worker().name() + " (SIGKILL) while publishing " + k.job()
                        + ": left " + k.tmp().getFileName() + " holding " + files);
            } else {
                publications.left.incrementAndGet();
                record(Fault.WORKER_KILL_FINALIZE, hit, k.worker().name() + " (SIGKILL) just after publishing "
                        + k.job() + " (the rename came before the kill)");
            }
            replaceWorker();
        }

        /**
         * Damages the newest checkpoint of {@code job} (step {@code seq - 1}; bytes flipped the first time, the file
         * cut in half the next) and kills the worker training step {@code seq}: the next worker must find the damage
         * by its digest and restore the checkpoint before it.
         */
        void corruptNewestAndKill(String job, JobProgress p) {
            Path checkpoints = pipeline.workDir().resolve("jobs").resolve(job).resolve("checkpoints");
            boolean truncate = corrupted.size() % 2 == 1;
            try (var list = Files.list(checkpoints)) {
                Path newest = list.filter(d -> d.getFileName().toString().startsWith("ckpt-" + String.format(
                        "%06d", p.seq() - 1))).max(java.util.Comparator.comparing(Path::toString)).orElseThrow(
                                () -> new AssertionError(
                                        "no checkpoint of step " + (p.seq() - 1) + " in " + checkpoints));
                Path model = newest.resolve("model.zip");
                byte[] bytes = Files.readAllBytes(model);
                if (truncate) {
                    Files.write(model, java.util.Arrays.copyOf(bytes, bytes.length / 2));
                } else {
                    for (int i = bytes.length / 3; i < bytes.length / 3 + 64; i++) {
                        bytes[i] ^= (byte) 0x5a;
                    }
                    Files.write(model, bytes);
                }
                corrupted.put(job, p.seq() - 1);
                killWorker(Fault.CHECKPOINT_CORRUPT, p.worker(), (truncate ? "truncated " : "corrupted ")
                        + checkpoints.relativize(model) + ", then killed the worker of " + job + " seq " + p.seq());
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }

        void restartScheduler(String when) {
            Set<String> hit = jobs.stream().filter(j -> !published.contains(j)).collect(Collectors.toSet());
            pipeline.scheduler().kill();
            record(Fault.SCHEDULER_KILL, hit, "scheduler (SIGKILL) after " + when);
            pipeline.startScheduler();
            quietUntil = System.nanoTime() + Duration.ofSeconds(8).toNanos();
        }

        void restartBroker(String when) {
            Set<String> hit = jobs.stream().filter(j -> !published.contains(j)).collect(Collectors.toSet());
            pipeline.kafka().stop();
            record(Fault.BROKER_RESTART, hit, "broker stopped " + when);
            sleep(Duration.ofSeconds(3));
            pipeline.kafka().restart();
            quietUntil = System.nanoTime() + Duration.ofSeconds(15).toNanos();
        }

        void record(Fault f, Set<String> hit, String detail) {
            Injection i = new Injection(f, Set.copyOf(hit), detail);
            injections.add(i);
            System.out.println("injected " + f.label + ": " + detail + ", jobs " + hit);
        }

        /**
         * Kills the worker that publishes a job the moment the publisher's temporary version directory appears, with
         * no hook in the product: an inotify watch ({@link WatchService}) on the job's publication directory
         * {@code jobs/<job>/models/<name>/} (created when armed, as the publisher would), armed when the job's last
         * step is done, and the pid in the job's lock file {@code jobs/<job>/.lock}, which the worker applying a
         * command holds and names itself in. The SIGKILL is sent from the watching thread, milliseconds after the
         * directory appears; the main loop then replaces the worker ({@link #onPublicationKill}).
         */
        final class PublicationKiller implements AutoCloseable {
            record Killed(String job, ChildProcess worker, Path tmp) {
            }

            static final Pattern HOLDER_PID = Pattern.compile("\\(pid (\\d+)\\)");
            final WatchService watch = FileSystems.getDefault().newWatchService();
            final Map<WatchKey, String> jobOf = new ConcurrentHashMap<>();
            final AtomicInteger left;
            final BlockingQueue<Killed> killed = new LinkedBlockingQueue<>();
            final Thread thread = new Thread(this::watch, "chaos-publication-watch");

            PublicationKiller(int budget) throws IOException {
                left = new AtomicInteger(budget);
                thread.setDaemon(true);
                thread.start();
            }

            /** Watches the publication directory of {@code job} for its next temporary version directory, once. */
            void arm(String job) throws IOException {
                if (left.get() <= 0 || published.contains(job) || jobOf.containsValue(job)) {
                    return;
                }
                Path dir = Files.createDirectories(pipeline.workDir().resolve("jobs").resolve(job).resolve("models")
                        .resolve(job)); // the recipes publish under the job's name
                jobOf.put(dir.register(watch, StandardWatchEventKinds.ENTRY_CREATE), job);
            }

            private void watch() {
                try {
                    while (true) {
                        WatchKey key = watch.take();
                        String job = jobOf.get(key);
                        for (WatchEvent<?> e : key.pollEvents()) {
                            if (job != null && e.context() instanceof Path name && name.toString().startsWith(".tmp-")
                                    && left.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                                killPublisher(job, ((Path) key.watchable()).resolve(name));
                                jobOf.remove(key);
                                key.cancel();
                                job = null;
                            }
                        }
                        key.reset();
                    }
                } catch (InterruptedException | ClosedWatchServiceException e) {
                    // closed: the run is over
                }
            }

            private void killPublisher(String job, Path tmp) {
                try {
                    Matcher m = HOLDER_PID.matcher(Files.readString(pipeline.workDir().resolve("jobs").resolve(job)
                            .resolve(".lock")));
                    ChildProcess worker = m.find() ? workerByPid.get(Long.parseLong(m.group(1))) : null;
                    if (worker == null || !worker.isAlive()) {
                        left.incrementAndGet();
                        System.out.println("publication of " + job + " began, but its lock names no live worker of this"
                                + " run: nothing killed");
                        return;
                    }
                    ProcessHandle.of(worker.pid()).ifPresent(ProcessHandle::destroyForcibly);
                    killed.add(new Killed(job, worker, tmp));
                } catch (IOException e) {
                    left.incrementAndGet();
                    System.out.println("publication of " + job + " began, but its lock could not be read: " + e);
                }
            }

            @Override
            public void close() throws IOException {
                watch.close();
            }
        }
    }

    static void sleep(Duration d) {
        try {
            Thread.sleep(d.toMillis());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
