package dev.shears.bench;

import dev.shears.common.events.Event;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.StepCompleted;
import dev.shears.common.events.Topics;
import dev.shears.common.process.SerialFilter;
import dev.shears.deploy.launch.LocalPipeline;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

/**
 * The pipeline's overhead on one command: a {@link LocalPipeline} (broker, scheduler, one worker, each its own JVM, on
 * loopback) runs one LeNet-5 job with many steps and no fine-tuning, so that a step is little more than the path
 * scheduler (produces {@code PruneStep} in a transaction) → broker → worker (polls, read_committed) → mask applied.
 *
 * <p>Prints {@code LATENCY} (each {@code PruneStep}'s creation to its mask applied, as the worker logs it with
 * {@code shears.worker.command.latency}), {@code REACTION} ({@code StepCompleted} k created → {@code PruneStep} k + 1
 * created: the scheduler's own turn-around), {@code WORKER_STEP} ({@code PruneStep} k → {@code StepCompleted} k:
 * delivery, mask, evaluation, checkpoint), {@code CYCLE} ({@code PruneStep} k → k + 1), all from the events' times in
 * the topics, and the worker's {@code /metrics} count, max and the 50 ms bucket of the timer as {@code METRIC} lines.
 * {@code LATENCY} splits into {@code TO_STEP} (creation to the worker's step starting: commit, delivery, dispatch,
 * reading the checkpoint state) and {@code MASK} (computing and applying the mask); {@code TO_STEP} into
 * {@code DELIVERY} (creation to the worker's poll returning it: the scheduler's transaction and Kafka's delivery) and
 * {@code HANDOFF} (poll to the step starting: the worker's own part).
 *
 * <pre>
 * java -cp bench/target/benchmarks.jar dev.shears.bench.PipelineLatency \
 *     [--data trainer/src/test/resources/fashion-mnist-subset] [--steps 50] [--dense-epochs 1] [--iterations 0] \
 *     [--dir DIR]
 * </pre>
 */
@Command(name = "PipelineLatency", mixinStandardHelpOptions = true,
        description = "PruneStep produced to mask applied, on a local pipeline with one worker.")
public final class PipelineLatency implements Callable<Integer> {
    static final String JOB = "latency-lenet5";
    private static final Pattern APPLIED = Pattern.compile(
            "job " + Pattern.quote(JOB) + " seq (\\d+) attempt \\d+ PruneStep: .*mask applied ([0-9.]+) ms after the"
                    + " command was created \\(([0-9.]+) ms computing it; received by this worker ([0-9.-]+) ms after it was"
                    + " created\\)");

    @Mixin
    TrainedJobs jobs = new TrainedJobs(BenchModels.FASHION_MNIST_SUBSET, 1, 50, 0);

    @Mixin
    RunDirectory dir;

    @Mixin
    Deadline deadline = new Deadline(20);

    public static void main(String[] args) {
        SerialFilter.install();
        System.exit(new CommandLine(new PipelineLatency()).execute(args));
    }

    @Override
    public Integer call() throws Exception {
        Path work = dir.orTemporary("pipeline-latency");
        try (LocalPipeline pipeline = LocalPipeline.start(work,
                LocalPipeline.Options.defaults().withWorkers(1).withDataRoots(List.of(jobs.dataRoot())))) {
            SchedulerApi api = new SchedulerApi(pipeline.schedulerUrl());
            api.submit(jobs.recipe(JOB));
            String state = api.awaitEnd(JOB, System.nanoTime(), deadline, pipeline.logDir());
            System.out.println("RECIPE " + jobs.describe() + " state=" + state);

            Samples latency = new Samples();
            Samples computing = new Samples();
            Samples before = new Samples();
            Samples delivery = new Samples();
            Samples handOff = new Samples();
            for (String line : Files.readAllLines(pipeline.logDir().resolve("worker-1.log"), StandardCharsets.UTF_8)) {
                Matcher m = APPLIED.matcher(line);
                if (m.find()) {
                    double total = Double.parseDouble(m.group(2));
                    double mask = Double.parseDouble(m.group(3));
                    latency.add(total);
                    computing.add(mask);
                    double received = Double.parseDouble(m.group(4));
                    before.add(total - mask);
                    delivery.add(received);
                    handOff.add(total - mask - received);
                }
            }
            System.out.println("LATENCY type=PruneStep " + latency.summary());
            System.out.println("TO_STEP " + before.summary());
            System.out.println("MASK " + computing.summary());
            System.out.println("DELIVERY " + delivery.summary());
            System.out.println("HANDOFF " + handOff.summary());

            TopicHistory history = TopicHistory.read(pipeline.bootstrapServers(), Topics.defaults());
            System.out.println("REACTION " + history.reactions().summary());
            Samples workerStep = new Samples();
            Samples cycle = new Samples();
            List<Event> commands = history.commands().getOrDefault(JOB, List.of());
            List<Event> reports = history.reports().getOrDefault(JOB, List.of());
            Event previous = null;
            for (Event c : commands) {
                if (!(c.payload() instanceof PruneStep)) {
                    continue;
                }
                reports.stream().filter(r -> r.payload() instanceof StepCompleted s && s.seq() == c.seq()
                        && !s.redelivered()).findFirst().ifPresent(r -> workerStep.add(TopicHistory.between(c, r)));
                if (previous != null) {
                    cycle.add(TopicHistory.between(previous, c));
                }
                previous = c;
            }
            System.out.println("WORKER_STEP " + workerStep.summary());
            System.out.println("CYCLE " + cycle.summary());

            URI metrics = pipeline.workerMetrics(pipeline.worker("worker-1"));
            String scraped = HttpClient.newHttpClient()
                    .send(HttpRequest.newBuilder(metrics).build(), HttpResponse.BodyHandlers.ofString()).body();
            Files.writeString(work.resolve("worker-1.metrics"), scraped);
            for (String line : scraped.split("\n")) {
                if (line.startsWith("shears_worker_command_latency_seconds") && line.contains("PruneStep")
                        && (line.contains("_count") || line.contains("_max") || line.contains("le=\"0.050331646\""))) {
                    System.out.println("METRIC " + line);
                }
            }
            return state.equals("published") && latency.count() == jobs.steps ? 0 : 1;
        }
    }
}
