package dev.shears.trainer.job;

import dev.shears.common.recipe.AccuracyBudget;
import dev.shears.common.recipe.Recipe;
import dev.shears.common.recipe.Training;
import dev.shears.common.schedule.Schedule;
import dev.shears.common.schedule.SchedulePoint;
import dev.shears.prune.Pruning;
import dev.shears.trainer.checkpoint.CheckpointState;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.EvalResult;
import dev.shears.trainer.data.FashionMnist;
import dev.shears.trainer.metrics.TrainerMetrics;
import dev.shears.trainer.model.Models;
import dev.shears.trainer.publish.Publication;
import dev.shears.trainer.publish.Publisher;
import dev.shears.trainer.train.MaskedTraining;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * One training job run in one process, start to finish: dense pre-training, every schedule step
 * (prune to the absolute target, fine-tune, evaluate, apply the accuracy budget, checkpoint), then
 * finalize and publish. Resumes from its last good checkpoint when there is one.
 */
public final class TrainJob {
    private final Recipe recipe;
    private final Path out;
    private final Progress progress;
    private final PrintStream report;
    private final TrainerMetrics metrics;

    private MultiLayerNetwork net;
    private Pruning pruning;
    private MaskedTraining masked;
    private PruningPlan plan;
    private Batches batches;
    private FashionMnist data;
    private Checkpoints checkpoints;
    private long iteration;
    private double denseAccuracy = Double.NaN;
    private final List<StepResult> history = new ArrayList<>();

    /** The job's result: its steps and where the model went. */
    public record Summary(String job, List<StepResult> steps, Publication publication, double denseAccuracy,
            double finalAccuracy, double seconds, String restoredFrom) {}

    /**
     * @param recipe the job
     * @param out the job's directory: checkpoints, the published model and {@code summary.json}
     * @param progress where progress is drawn
     * @param report where the per-step table is printed
     * @param metrics where metrics go
     */
    public TrainJob(Recipe recipe, Path out, Progress progress, PrintStream report, TrainerMetrics metrics) {
        this.recipe = recipe;
        this.out = out;
        this.progress = progress;
        this.report = report;
        this.metrics = metrics;
    }

    public Summary run() throws IOException {
        long started = System.nanoTime();
        dev.shears.trainer.cpu.CpuAcceleration.enable();
        String job = recipe.job();
        Training t = recipe.training();
        data = FashionMnist.load(recipe.data()).standardized();
        checkpoints = new Checkpoints(out.resolve("checkpoints"), recipe.checkpoints().keepLast());
        Optional<Checkpoints.Restored> restored = checkpoints.restoreLatest();
        long seq = -1;
        String restoredFrom = null;
        if (restored.isPresent() && restored.get().state().job().equals(job)) {
            CheckpointState state = restored.get().state();
            net = restored.get().model().network();
            pruning = restored.get().model().pruning().seed(t.seed());
            seq = state.seq();
            iteration = state.iteration();
            denseAccuracy = state.denseAccuracy();
            history.addAll(state.history());
            restoredFrom = restored.get().from().toString();
            batches = Batches.shuffled(data.train(), t.batchSize(), t.seed());
            batches.seek(new Batches.Position((int) state.epoch(), (int) state.batchInEpoch()));
            metrics.restored(job, 0);
            report.printf(Locale.ROOT, "resumed %s from %s: step %d done, iteration %d%n", job,
                    restored.get().from().getFileName(), seq, iteration);
        } else {
            net = (MultiLayerNetwork) Models.create(recipe.model().toString(), t.seed(), updater(t), t.weightDecay());
            pruning = Pruning.of(net).seed(t.seed());
            batches = Batches.shuffled(data.train(), t.batchSize(), t.seed());
        }
        plan = new PruningPlan(recipe.pruning(), pruning, t.seed());
        masked = new MaskedTraining(pruning);
        net.setListeners(masked);
        Schedule schedule = Schedule.of(recipe.schedule());
        metrics.step(job, (int) Math.max(seq, 0), schedule.steps());

        printHeader();
        history.forEach(this::printRow);
        if (seq < 0) {
            dense(job);
            seq = 0;
        }
        for (SchedulePoint point : schedule.points()) {
            if (point.step() <= seq) {
                continue;
            }
            StepResult result = step(job, point);
            if (result.decision().startsWith("stopped")) {
                break;
            }
        }
        Publication publication = Publisher.publish(net, pruning, plan, recipe, data, history.get(history.size() - 1),
                checkpoints.list().isEmpty() ? null : checkpoints.list().get(checkpoints.list().size() - 1).dir(),
                out.resolve("models"));
        Summary summary = new Summary(job, List.copyOf(history), publication, denseAccuracy,
                history.get(history.size() - 1).accuracy(), (System.nanoTime() - started) / 1e9, restoredFrom);
        Files.createDirectories(out);
        Files.writeString(out.resolve("summary.json"), Json.write(summary));
        return summary;
    }

    private void dense(String job) throws IOException {
        long start = System.nanoTime();
        long iterations = (long) recipe.training().denseEpochs() * batches.batchesPerEpoch();
        progress.start("dense pre-training", iterations, recipe.training().batchSize());
        Map<String, INDArray> rewind = recipe.schedule().kind().isLotteryTicket() ? new LinkedHashMap<>() : null;
        long rewindAt = recipe.schedule().rewindIteration().orElse(0L);
        if (rewind != null && rewindAt == 0) {
            snapshot(rewind);
        }
        for (long i = 0; i < iterations; i++) {
            net.fit(batches.next());
            iteration++;
            progress.tick();
            if (rewind != null && iteration == rewindAt) {
                snapshot(rewind);
            }
        }
        progress.finish();
        metrics.samplesTrained(job, iterations * recipe.training().batchSize());
        metrics.throughput(job, progress.samplesPerSecond());
        if (rewind != null) {
            if (rewind.isEmpty()) {
                throw new IllegalArgumentException("schedule.rewindIteration " + rewindAt + " is beyond the "
                        + iterations + " dense iterations (fix: rewind to an iteration of dense training)");
            }
            saveRewind(rewind);
        }
        EvalResult eval = EvalResult.evaluate(net, data.test(), 1000);
        denseAccuracy = eval.accuracy();
        StepResult result = new StepResult(0, 0, plan.achieved(pruning), plan.layerSparsity(pruning), eval.accuracy(),
                eval.meanLoss(), iterations, (System.nanoTime() - start) / 1e9, progress.samplesPerSecond(), "dense");
        record(job, result, 0);
    }

    private StepResult step(String job, SchedulePoint point) throws IOException {
        long start = System.nanoTime();
        double target = point.targetSparsity();
        plan.apply(pruning, target, point.step());
        if (point.rewind()) {
            rewind();
        }
        masked.refresh(net);
        long iterations = fineTune(job, point.step(), recipe.fineTune().iterationsPerStep());
        EvalResult eval = EvalResult.evaluate(net, data.test(), 1000);
        String decision = "ok";
        AccuracyBudget budget = recipe.accuracyBudget();
        int retries = 0;
        while (!budget.accepts(eval.accuracy(), denseAccuracy) && retries < budget.maxRetries()
                && budget.policy() == AccuracyBudget.Policy.EXTRA_FINE_TUNE) {
            retries++;
            iterations += fineTune(job, point.step(), budget.extraIterations().orElse(recipe.fineTune().iterationsPerStep()));
            eval = EvalResult.evaluate(net, data.test(), 1000);
            decision = "extra fine-tune x" + retries;
        }
        if (!budget.accepts(eval.accuracy(), denseAccuracy) && budget.policy() != AccuracyBudget.Policy.EXTRA_FINE_TUNE) {
            // stop (or roll back, which in a local run is the same): go back to the last good
            // checkpoint and finalize at its sparsity.
            Checkpoints.Restored good = checkpoints.restoreLatest().orElseThrow();
            net = good.model().network();
            pruning = good.model().pruning();
            plan = new PruningPlan(recipe.pruning(), pruning, recipe.training().seed());
            masked = new MaskedTraining(pruning);
            net.setListeners(masked);
            StepResult stopped = new StepResult(point.step(), target, plan.achieved(pruning), plan.layerSparsity(pruning),
                    good.state().accuracy(), good.state().loss(), iterations, (System.nanoTime() - start) / 1e9,
                    progress.samplesPerSecond(), String.format(Locale.ROOT,
                            "stopped: accuracy %.4f below budget, back to step %d", eval.accuracy(), good.state().seq()));
            history.add(stopped);
            printRow(stopped);
            return stopped;
        } else if (!budget.accepts(eval.accuracy(), denseAccuracy)) {
            decision = "below budget after " + retries + " extra";
        }
        StepResult result = new StepResult(point.step(), target, plan.achieved(pruning), plan.layerSparsity(pruning),
                eval.accuracy(), eval.meanLoss(), iterations, (System.nanoTime() - start) / 1e9,
                progress.samplesPerSecond(), decision);
        record(job, result, target);
        metrics.stepDuration(job, Duration.ofNanos(System.nanoTime() - start));
        return result;
    }

    private long fineTune(String job, int step, long iterations) {
        progress.start("step " + step + " fine-tune", iterations, recipe.training().batchSize());
        for (long i = 0; i < iterations; i++) {
            net.fit(batches.next());
            iteration++;
            progress.tick();
        }
        progress.finish();
        metrics.samplesTrained(job, iterations * recipe.training().batchSize());
        metrics.throughput(job, progress.samplesPerSecond());
        return iterations;
    }

    private void record(String job, StepResult result, double target) throws IOException {
        history.add(result);
        metrics.step(job, result.seq(), Schedule.of(recipe.schedule()).steps());
        metrics.sparsity(job, target, result.achievedSparsity(), result.layerSparsity());
        metrics.evaluation(job, "test", result.accuracy(), result.loss());
        long start = System.nanoTime();
        Batches.Position position = batches.position();
        CheckpointState state = new CheckpointState(job, result.seq(), iteration, position.epoch(),
                position.batchIndex(), recipe.training().seed(), target, result.achievedSparsity(), result.accuracy(),
                result.loss(), result.layerSparsity(), denseAccuracy, history, Instant.now());
        try {
            checkpoints.save(net, pruning, state);
        } catch (IOException e) {
            metrics.checkpointFailed(job);
            throw new IOException("checkpoint of step " + result.seq() + " failed: " + e.getMessage()
                    + " (fix: check that " + checkpoints.dir() + " is writable and has space; the job resumes"
                    + " from its last good checkpoint when run again)", e);
        }
        metrics.checkpointDuration(job, Duration.ofNanos(System.nanoTime() - start));
        printRow(result);
    }

    private void snapshot(Map<String, INDArray> into) {
        for (String name : plan.names()) {
            into.put(name, pruning.weight(name).dup());
        }
    }

    private void saveRewind(Map<String, INDArray> rewind) throws IOException {
        Path dir = out.resolve("rewind");
        Files.createDirectories(dir);
        for (Map.Entry<String, INDArray> e : rewind.entrySet()) {
            Nd4j.saveBinary(e.getValue(), dir.resolve(e.getKey() + ".bin").toFile());
        }
    }

    /** Lottery ticket: survivors go back to their values at the rewind iteration; the updater starts over. */
    private void rewind() throws IOException {
        Path dir = out.resolve("rewind");
        Map<String, INDArray> state = new LinkedHashMap<>();
        for (String name : plan.names()) {
            Path file = dir.resolve(name + ".bin");
            if (!Files.exists(file)) {
                throw new IOException("no rewind snapshot " + file + " (fix: the job directory lost its rewind/ folder;"
                        + " start the job again in a new directory)");
            }
            state.put(name + "_orig", Nd4j.readBinary(file.toFile()));
            state.put(name + "_mask", pruning.mask(name).dup());
        }
        pruning.loadStateDict(state);
        net.getUpdater().getStateViewArray().assign(0);
    }

    private void printHeader() {
        report.printf(Locale.ROOT, "%n%-5s %8s %9s %9s %8s %7s %10s  %s%n", "step", "target", "achieved", "accuracy", "loss",
                "time", "samples/s", "decision");
    }

    private void printRow(StepResult r) {
        report.printf(Locale.ROOT, "%-5d %7.2f%% %8.2f%% %9.4f %8.4f %6.0fs %10.0f  %s%n", r.seq(), 100 * r.targetSparsity(),
                100 * r.achievedSparsity(), r.accuracy(), r.loss(), r.seconds(), r.samplesPerSecond(), r.decision());
        report.flush();
    }

    static IUpdater updater(Training t) {
        return switch (t.updater()) {
            case SGD -> new Sgd(t.learningRate());
            case NESTEROVS -> new Nesterovs(t.learningRate(), t.momentum().orElse(Training.DEFAULT_MOMENTUM));
            case ADAM -> new Adam(t.learningRate());
        };
    }
}
