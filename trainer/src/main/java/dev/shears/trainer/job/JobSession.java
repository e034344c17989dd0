package dev.shears.trainer.job;

import dev.shears.common.recipe.ModelSource;
import dev.shears.common.recipe.Recipe;
import dev.shears.common.recipe.Training;
import dev.shears.common.schedule.Schedule;
import dev.shears.common.schedule.SchedulePoint;
import dev.shears.prune.Pruning;
import dev.shears.trainer.train.PruningPlan;
import dev.shears.trainer.checkpoint.CheckpointState;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.checkpoint.JobDirectory;
import dev.shears.trainer.checkpoint.MidStepState;
import dev.shears.trainer.checkpoint.StepResult;
import dev.shears.trainer.cpu.CpuAcceleration;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.Evaluation;
import dev.shears.trainer.data.JobData;
import dev.shears.trainer.data.JobInputs;
import dev.shears.trainer.metrics.TrainerMetrics;
import dev.shears.trainer.model.Models;
import dev.shears.trainer.model.TrainableModel;
import dev.shears.trainer.publish.Publication;
import dev.shears.trainer.publish.Publisher;
import dev.shears.trainer.sensitivity.Sensitivity;
import dev.shears.trainer.sensitivity.SensitivityReport;
import dev.shears.trainer.train.MaskedTraining;
import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.function.BooleanSupplier;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One job's working state on one machine — model, pruning state, data position, checkpoints — and
 * the operations a job is made of: dense pre-training, a pruning step (prune, fine-tune,
 * evaluate), more fine-tuning, committing a step to a checkpoint, rolling back to the last one,
 * and publishing. Whoever drives it decides the order and the policy: {@link TrainJob} in one
 * process, a worker following the scheduler's events.
 *
 * <p>Opening a session restores the job's newest good checkpoint when there is one. Everything on disk goes through the
 * job's {@link JobDirectory}. A session is used by one thread at a time; {@link #stopWhen} lets another thread stop its
 * training. The model is made in the constructor or restored from a checkpoint ({@code adopt}); the data comes from the
 * worker's shared data sets ({@link JobInputs}) as the session's {@link JobData}, fed with the normalisation the job's
 * checkpoints record.
 */
public final class JobSession {
    private static final Logger log = LoggerFactory.getLogger(JobSession.class);
    /** How often a step in training notes its progress for the iterations a crash would lose. */
    private static final Duration NOTE_EVERY = Duration.ofSeconds(5);
    private final Recipe recipe;
    private final JobDirectory dir;
    private final Progress progress;
    private final TrainerMetrics metrics;
    private final JobData data;
    private final Checkpoints checkpoints;
    private final List<StepResult> history = new ArrayList<>();
    private final Checkpoints.Restored restored;

    private TrainableModel model;
    private Pruning pruning;
    private MaskedTraining masked;
    private PruningPlan plan;
    private final Batches batches;
    private long iteration;
    private long lastSeq = -1;
    private int lastAttempt = 1;
    private Checkpoints.Checkpoint lastCheckpoint;
    private double denseAccuracy = Double.NaN;
    private volatile BooleanSupplier stop = () -> false;
    /** The step begun and not trained yet ({@link #beginStep}), whose training writes mid-step checkpoints. */
    private Step step;

    private JobSession(Recipe recipe, JobDirectory dir, JobInputs inputs, Progress progress, TrainerMetrics metrics)
            throws IOException {
        CpuAcceleration.enable();
        this.recipe = recipe;
        this.dir = dir;
        this.progress = progress;
        this.metrics = metrics;
        metrics.jobOpened(recipe.job());
        this.checkpoints = dir.checkpoints();
        dir.removeAbandoned();
        Optional<Checkpoints.Restored> found = checkpoints.restoreLatest();
        this.restored = found.filter(r -> r.state().job().equals(recipe.job())).orElse(null);
        Training t = recipe.training();
        // the normalisation the job was fed with: its checkpoint's, or, before any, its interrupted dense step's
        this.data = JobData.open(recipe.data(), t.seed(), t.batchSize(), inputs.data(),
                Optional.ofNullable(restored).map(r -> r.state().normalization()).or(() -> checkpoints.midStepState()
                        .filter(m -> m.job().equals(recipe.job()) && m.base().isEmpty())
                        .map(MidStepState::normalization)));
        this.batches = data.batches();
        if (restored != null) {
            adopt(restored);
        } else {
            org.deeplearning4j.nn.api.Model built = recipe.model().kind() == ModelSource.Kind.FILE
                    ? saved(inputs, recipe.model().file().orElseThrow())
                    : Models.create(recipe.model(), data.shape().input(), data.shape().classes(), t.seed(), updater(t),
                            t.weightDecay());
            model = TrainableModel.of(built, data.shape().input());
            attach(model.newPruning());
        }
    }

    /**
     * Opens the job in {@code dir}, resuming from its newest good checkpoint if it has one, with the data and saved
     * models {@code inputs} finds.
     *
     * @throws dev.shears.trainer.data.Roots.UnavailableException when no root holds the data set or the saved model the
     *     recipe names (the message is safe to send back)
     * @throws dev.shears.trainer.data.DatasetException when the data set's files are not valid or do not fit the recipe
     */
    public static JobSession open(Recipe recipe, JobDirectory dir, JobInputs inputs, Progress progress,
            TrainerMetrics metrics) throws IOException {
        return new JobSession(recipe, dir, inputs, progress, metrics);
    }

    /** The job's recipe. */
    public Recipe recipe() {
        return recipe;
    }

    /** The progress of the training phase running or run last. */
    public Progress progress() {
        return progress;
    }

    /** The checkpoint this session resumed from, if any. */
    public Optional<Checkpoints.Restored> restored() {
        return Optional.ofNullable(restored);
    }

    /**
     * The step that was training after the job's last checkpoint when its session stopped (a crash, a stop), if one
     * was: the iteration its mid-step checkpoint lets it go on from, and the iterations lost past that.
     */
    public Optional<Checkpoints.Interrupted> interrupted() {
        return checkpoints.interrupted(lastCheckpoint == null ? "" : lastCheckpoint.id());
    }

    /** The last step committed to a checkpoint: -1 before dense pre-training, 0 after it. */
    public long lastSeq() {
        return lastSeq;
    }

    /** The attempt of the command that led to the last checkpoint (1 when there is none yet). */
    public int lastAttempt() {
        return lastAttempt;
    }

    /** The checkpoint written or restored last, if any. */
    public Optional<Checkpoints.Checkpoint> lastCheckpoint() {
        return Optional.ofNullable(lastCheckpoint);
    }

    /**
     * Training checks {@code condition} before every batch and, once it holds, stops by throwing
     * {@link CancellationException}; the session's model is then half-trained and must be
     * discarded (open the job again to go on from its last checkpoint).
     */
    public void stopWhen(BooleanSupplier condition) {
        this.stop = condition;
    }

    public double denseAccuracy() {
        return denseAccuracy;
    }

    public long iteration() {
        return iteration;
    }

    /** Every committed step, in order. */
    public List<StepResult> history() {
        return List.copyOf(history);
    }

    /** The iterations of dense pre-training: the recipe's epochs of the training split. */
    public long denseIterations() {
        return (long) recipe.training().denseEpochs() * batches.batchesPerEpoch();
    }

    /**
     * Dense pre-training for the recipe's epochs (the step of key (1, 0), carried on from its mid-step checkpoint when a
     * crash interrupted it), then evaluation; commit with {@link #commit}.
     */
    public Evaluation pretrain() throws IOException {
        long iterations = denseIterations();
        boolean lotteryTicket = recipe.schedule().kind().isLotteryTicket();
        long rewindAt = recipe.schedule().rewindIteration().orElse(0L);
        if (lotteryTicket && rewindAt > iterations) {
            throw new IllegalArgumentException("schedule.rewindIteration " + rewindAt + " is beyond the "
                    + iterations + " dense iterations (fix: rewind to an iteration of dense training)");
        }
        if (step == null) {
            beginStep(0, 1, 0, iterations);
        }
        if (lotteryTicket && rewindAt == 0 && iteration == 0) {
            saveRewind();
        }
        train("dense pre-training", iterations, () -> {
            if (lotteryTicket && iteration == rewindAt) {
                saveRewind(); // before any mid-step checkpoint after it: a resume past it finds it on disk
            }
        });
        Evaluation eval = evaluate();
        denseAccuracy = eval.accuracy();
        return eval;
    }

    /**
     * Prunes to the point's absolute target (rewinding for lottery tickets), fine-tunes and evaluates: the step of key
     * (1, {@code point.step()}), carried on from its mid-step checkpoint when a crash interrupted it.
     */
    public Evaluation prune(SchedulePoint point, long fineTuneIterations) throws IOException {
        beginStep(point.step(), 1, point.targetSparsity(), fineTuneIterations);
        applyMask(point);
        return fineTune("step " + point.step() + " fine-tune", fineTuneIterations);
    }

    /**
     * Begins the step of the command of key {@code (attempt, seq)}, which trains {@code iterations} iterations at
     * {@code targetSparsity} from the job's last checkpoint: its training writes mid-step checkpoints as the recipe's
     * {@code checkpoints.every} says. When the job has a mid-step checkpoint of this very step (a crash, or a stop,
     * interrupted it), the session takes it up: model, updater, masks, data position; {@link #applyMask} then applies
     * nothing (the masks are those of the checkpoint) and the step's training goes on from where it stood, to the
     * same bits as if it had never stopped.
     *
     * @return the interrupted step taken up: the iteration its training goes on from, and the iterations the
     *     interruption lost past it as far as they were noted; empty when the step starts from the beginning
     */
    public Optional<Checkpoints.Interrupted> beginStep(long seq, int attempt, double targetSparsity, long iterations) {
        String base = lastCheckpoint == null ? "" : lastCheckpoint.id();
        step = new Step(seq, attempt, base, targetSparsity, iterations, 0);
        Optional<Checkpoints.MidStep> found = checkpoints.midStepState()
                .filter(m -> m.belongsTo(recipe.job(), seq, attempt, base, targetSparsity, iterations))
                .flatMap(m -> checkpoints.restoreMidStep());
        if (found.isEmpty()) {
            return Optional.empty();
        }
        MidStepState state = found.get().state();
        model = TrainableModel.of(found.get().model().model(), data.shape().input());
        attach(found.get().model().pruning());
        iteration = state.iteration();
        batches.seek(new Batches.Position((int) state.epoch(), (int) state.batchInEpoch()));
        step = new Step(seq, attempt, base, targetSparsity, iterations, state.done());
        return checkpoints.interrupted(base);
    }

    /**
     * The first half of {@link #prune}: prunes to the point's absolute target and rewinds for lottery tickets; the
     * network trains masked from here on. Follow it with {@link #fineTune}. Within a step taken up from its mid-step
     * checkpoint ({@link #beginStep}), it applies nothing: the checkpoint's masks are the step's.
     */
    public void applyMask(SchedulePoint point) throws IOException {
        if (step != null && step.done() > 0) {
            return;
        }
        plan.apply(pruning, point.targetSparsity(), point.step());
        if (point.rewind()) {
            rewind();
        }
        masked.refresh(model.model());
    }

    /**
     * Trains {@code iterations} more (masked) iterations and evaluates. Within a step begun by {@link #beginStep} (of
     * these iterations), it writes the step's mid-step checkpoints and trains only what the step has left.
     */
    public Evaluation fineTune(String label, long iterations) throws IOException {
        train(label, iterations, () -> {});
        return evaluate();
    }

    /**
     * Trains the begun step's remaining iterations of {@code iterations} (all of them outside a step), writing mid-step
     * checkpoints as the recipe says, {@code each} after every iteration; the step is then trained.
     */
    private void train(String label, long iterations, AfterIteration each) throws IOException {
        Step s = step != null && step.iterations() == iterations ? step : null;
        step = null;
        long from = s == null ? 0 : s.done();
        dev.shears.common.recipe.Checkpoints.Every every = recipe.checkpoints().every();
        progress.start(label, iterations - from, recipe.training().batchSize());
        long sinceCheckpoint = 0;
        long checkpointed = System.nanoTime();
        long noted = checkpointed;
        for (long done = from; done < iterations;) {
            checkStop();
            model.fit(batches.next(), recipe.training().seed(), iteration);
            iteration++;
            done++;
            sinceCheckpoint++;
            progress.tick();
            each.run();
            if (s == null || done == iterations) {
                continue;
            }
            long now = System.nanoTime();
            if (every.due(sinceCheckpoint, Duration.ofNanos(now - checkpointed))) {
                saveMidStep(s, done);
                sinceCheckpoint = 0;
                checkpointed = System.nanoTime();
            } else if (now - noted > NOTE_EVERY.toNanos()) {
                checkpoints.noteProgress(new Checkpoints.StepProgress(s.seq(), s.attempt(), s.base(), done));
                noted = now;
            }
        }
        progress.finish();
        trained(iterations - from);
    }

    /** What training does after each iteration. */
    private interface AfterIteration {
        void run() throws IOException;
    }

    /**
     * A checkpoint write that failed, told as a {@code JobFailed} may carry it: no path of the worker's disk (those go to
     * the worker's log), the file system's reason, the fix.
     */
    private IOException checkpointFailure(String what, IOException e) {
        log.warn("job {}: {} failed in {}", recipe.job(), what, checkpoints.dir(), e);
        String reason = e instanceof FileSystemException f && f.getReason() != null ? f.getReason()
                : e.getClass().getSimpleName();
        return new IOException(what + " failed: " + reason + " (fix: check that jobs/" + recipe.job()
                + "/checkpoints under the workers' work directory is writable and has space; the job resumes from its"
                + " last good checkpoint when run again)", e);
    }

    /** Writes the mid-step checkpoint of step {@code s} after {@code done} of its iterations. */
    private void saveMidStep(Step s, long done) throws IOException {
        long start = System.nanoTime();
        Batches.Position position = batches.position();
        MidStepState state = new MidStepState(recipe.job(), s.seq(), s.attempt(), s.base(), s.targetSparsity(),
                s.iterations(), done, iteration, position.epoch(), position.batchIndex(), data.normalization(),
                Instant.now());
        try {
            checkpoints.saveMidStep(model.model(), pruning, state);
        } catch (IOException e) {
            metrics.checkpointFailed(recipe.job());
            throw checkpointFailure("mid-step checkpoint of step " + s.seq() + " at iteration " + done + " of "
                    + s.iterations(), e);
        }
        checkpoints.noteProgress(new Checkpoints.StepProgress(s.seq(), s.attempt(), s.base(), done));
        metrics.checkpointDuration(recipe.job(), Duration.ofNanos(System.nanoTime() - start));
    }

    /**
     * A step begun ({@link #beginStep}): its command's key, the checkpoint it began from, its target and iterations,
     * and how many of them its mid-step checkpoint had done when the session took it up (0: from the start).
     */
    private record Step(long seq, int attempt, String base, double targetSparsity, long iterations, long done) {
    }

    /**
     * Sensitivity analysis of the job's dense model (after {@link #pretrain}, committed as step 0): each unit the
     * recipe prunes, alone, at each sparsity of {@code grid}, evaluated as the steps are; the model is left as it was.
     *
     * @throws IllegalStateException when the session is past its dense step
     */
    public SensitivityReport sensitivity(List<Double> grid) {
        if (lastSeq != 0) {
            throw new IllegalStateException("the job's newest checkpoint is step " + lastSeq + ", not its dense model"
                    + " (fix: analyse in a new job directory, or one where only dense pre-training ran)");
        }
        return Sensitivity.analyse(recipe.job(), model, plan, grid, () -> evaluate().accuracy());
    }

    /** Training samples per second of the last training phase. */
    public double samplesPerSecond() {
        return progress.samplesPerSecond();
    }

    /** Sparsity reached over the pruned parameters, overall and per parameter. */
    public double achievedSparsity() {
        return plan.achieved(pruning);
    }

    public Map<String, Double> layerSparsity() {
        return plan.layerSparsity(pruning);
    }

    /**
     * Records a finished step and commits it to a checkpoint (durable when this returns), under
     * attempt 1.
     *
     * @throws IOException when the checkpoint cannot be written; the job's earlier checkpoints stand
     */
    public void commit(StepResult result) throws IOException {
        commit(result, 1);
    }

    /**
     * Records a finished step and commits it to a checkpoint (durable when this returns) under the
     * command key {@code (attempt, result.seq())}; a step committed again (an extra fine-tune)
     * replaces the earlier result of that seq in the history.
     *
     * @throws IOException when the checkpoint cannot be written; the job's earlier checkpoints stand
     */
    public void commit(StepResult result, int attempt) throws IOException {
        String job = recipe.job();
        List<StepResult> before = List.copyOf(history);
        history.removeIf(h -> h.seq() >= result.seq());
        history.add(result);
        metrics.sparsity(job, result.targetSparsity(), result.achievedSparsity(), result.layerSparsity());
        metrics.evaluation(job, "validation", result.accuracy(), result.loss());
        metrics.evaluation(job, "test", result.testAccuracy(), result.testLoss());
        long start = System.nanoTime();
        Batches.Position position = batches.position();
        CheckpointState state = new CheckpointState(job, result.seq(), iteration, position.epoch(),
                position.batchIndex(), recipe.training().seed(), result.targetSparsity(), result.achievedSparsity(),
                result.accuracy(), result.loss(), result.layerSparsity(), denseAccuracy, history, Instant.now(),
                attempt, 0, result.testAccuracy(), data.normalization());
        try {
            lastCheckpoint = checkpoints.save(model.model(), pruning, state, Checkpoints.Retention.of(recipe));
        } catch (IOException e) {
            history.clear();
            history.addAll(before);
            metrics.checkpointFailed(job);
            throw checkpointFailure("checkpoint of step " + result.seq(), e);
        }
        lastSeq = result.seq();
        lastAttempt = attempt;
        step = null;
        try {
            checkpoints.deleteMidStep(); // superseded by the step's checkpoint
        } catch (IOException e) {
            // the step is committed; left behind, it names the checkpoint it began from and is never taken up again
            log.warn("job {}: could not delete the mid-step checkpoint of step {}: {}", job, result.seq(),
                    e.toString());
        }
        metrics.checkpointDuration(job, Duration.ofNanos(System.nanoTime() - start));
    }

    /** Goes back to the newest good checkpoint: model, masks, data position. */
    public CheckpointState rollBack() throws IOException {
        abandonStep();
        Checkpoints.Restored good = checkpoints.restoreLatest().orElseThrow(() -> new IOException(
                "no checkpoint to roll back to in " + checkpoints.dir()));
        adopt(good);
        return good.state();
    }

    /**
     * Goes back to the newest good checkpoint of step {@code seq} and records that under the new
     * command key {@code (attempt, seq)} in a new checkpoint (durable when this returns), so that
     * the job resumes from there, not from the newer steps it discards.
     *
     * @return the progress restored, under its new key
     * @throws IOException when no checkpoint of {@code seq} verifies (retention removed it, or it
     *     is corrupt) or the new one cannot be written
     */
    public CheckpointState rollBackTo(long seq, int attempt) throws IOException {
        abandonStep();
        long discarded = Math.max(0, lastSeq - seq);
        Optional<Checkpoints.Restored> found = checkpoints.restore(seq);
        if (found.isEmpty()) {
            throw new IOException("no checkpoint of step " + seq + " in jobs/" + recipe.job() + "/checkpoints (fix:"
                    + " roll back to a step the retention keeps, one of " + kept()
                    + ", or raise checkpoints.keepLast)");
        }
        Checkpoints.Restored good = found.get();
        adopt(good);
        CheckpointState state = good.state().rekeyed(attempt, discarded, Instant.now());
        lastCheckpoint = checkpoints.save(model.model(), pruning, state, Checkpoints.Retention.of(recipe));
        lastAttempt = attempt;
        return state;
    }

    /** Drops the step in progress and its mid-step checkpoint: the job goes back to a committed one. */
    private void abandonStep() throws IOException {
        step = null;
        checkpoints.deleteMidStep();
    }

    private List<Long> kept() throws IOException {
        return checkpoints.list().stream().map(Checkpoints.Checkpoint::seq).distinct().sorted().toList();
    }

    /**
     * Finalize: remove, verify, compact, publish. Ends the session's use of the model. A recipe that publishes a
     * sensitivity report ({@code publish.artifact: sensitivity}) publishes the analysis of its dense model instead.
     */
    public Publication publish() throws IOException {
        if (recipe.publish().isSensitivityReport()) {
            SensitivityReport report = sensitivity(Sensitivity.DEFAULT_GRID);
            return Publisher.publishSensitivity(model, report,
                    report.suggest(Schedule.of(recipe.schedule()).finalSparsity()), recipe, last(), newestCheckpoint(),
                    dir);
        }
        return Publisher.publish(model, pruning, layerSparsity(), recipe, data, last(), newestCheckpoint(), dir);
    }

    /**
     * The version a {@link #publish()} of this same step and checkpoint made before, if one did (it stopped before the
     * job recorded it); see {@link JobDirectory#publishedFrom}.
     */
    public Optional<JobDirectory.Earlier> publishedBefore() throws IOException {
        return dir.publishedFrom(recipe.publish().name(), last().seq(),
                newestCheckpoint().map(Checkpoints.Checkpoint::id).orElse(""));
    }

    private StepResult last() {
        return history.get(history.size() - 1);
    }

    private Optional<Checkpoints.Checkpoint> newestCheckpoint() throws IOException {
        List<Checkpoints.Checkpoint> all = checkpoints.list();
        return all.isEmpty() ? Optional.empty() : Optional.of(all.get(all.size() - 1));
    }

    private void adopt(Checkpoints.Restored from) {
        CheckpointState state = from.state();
        model = TrainableModel.of(from.model().model(), data.shape().input());
        attach(from.model().pruning());
        iteration = state.iteration();
        lastSeq = state.seq();
        lastAttempt = state.attempt();
        lastCheckpoint = new Checkpoints.Checkpoint(from.from(), state.seq(), state.iteration(), state.attempt());
        history.clear();
        history.addAll(state.history());
        denseAccuracy = state.denseAccuracy();
        batches.seek(new Batches.Position((int) state.epoch(), (int) state.batchInEpoch()));
    }

    private void attach(Pruning p) {
        pruning = p.seed(recipe.training().seed());
        plan = new PruningPlan(recipe.pruning(), Schedule.of(recipe.schedule()).finalSparsity(), model.model(), pruning,
                recipe.training().seed());
        masked = new MaskedTraining(pruning);
        model.setListeners(masked);
        model.prepareTraining();
    }

    private void checkStop() {
        if (stop.getAsBoolean()) {
            progress.finish();
            throw new CancellationException("training of job " + recipe.job() + " stopped at iteration " + iteration);
        }
    }

    /** The model on the validation and the test split, compiled for inference where it can be. */
    private Evaluation evaluate() {
        return model.withInference(data::evaluate);
    }

    private void trained(long iterations) {
        metrics.samplesTrained(recipe.job(), iterations * recipe.training().batchSize());
        metrics.throughput(recipe.job(), progress.samplesPerSecond());
    }

    /** Saves the lottery ticket's rewind snapshot: the pruned parameters as they are now. */
    private void saveRewind() throws IOException {
        for (String name : plan.names()) {
            INDArray weight = pruning.weight(name).dup();
            dir.writeRewind(name, file -> Nd4j.saveBinary(weight, file.toFile()));
        }
    }

    /** Lottery ticket: survivors go back to their values at the rewind iteration; the updater starts over. */
    private void rewind() throws IOException {
        Map<String, INDArray> state = new LinkedHashMap<>();
        for (String name : plan.names()) {
            Path file = dir.rewind(name).orElseThrow(() -> new IOException("no rewind snapshot of " + name + " in "
                    + dir.path() + " (fix: the job directory lost its rewind/ folder; start the job again in a new"
                    + " directory)"));
            state.put(name + "_orig", Nd4j.readBinary(file.toFile()));
            state.put(name + "_mask", pruning.mask(name).dup());
        }
        pruning.loadStateDict(state);
        model.updaterState().assign(0);
    }

    /**
     * The saved model {@code name} under the model roots; what goes wrong is told by its name, not by where it lies on
     * this worker's disk.
     */
    private static org.deeplearning4j.nn.api.Model saved(JobInputs inputs, Path name) {
        Path file = inputs.model(name);
        try {
            return Models.load(file);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(e.getMessage().replace(file.toString(), "file:" + name), e);
        }
    }

    /**
     * What this session holds beyond the worker's shared data sets, in bytes, as an estimate for the worker's session
     * budget: the model's parameters, gradients, updater state and pruning state (about six floats per parameter), and
     * its data's indices and staging arrays.
     */
    public long footprintBytes() {
        return 6L * Float.BYTES * model.numParams() + data.heapBytes();
    }

    static IUpdater updater(Training t) {
        return switch (t.updater()) {
            case SGD -> new Sgd(t.learningRate());
            case NESTEROVS -> new Nesterovs(t.learningRate(), t.momentum().orElse(Training.DEFAULT_MOMENTUM));
            case ADAM -> new Adam(t.learningRate());
        };
    }
}
