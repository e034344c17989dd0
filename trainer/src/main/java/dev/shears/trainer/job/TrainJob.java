package dev.shears.trainer.job;

import dev.shears.common.policy.BudgetPolicy;
import dev.shears.common.recipe.AccuracyBudget;
import dev.shears.common.recipe.Recipe;
import dev.shears.common.schedule.Schedule;
import dev.shears.common.schedule.SchedulePoint;
import dev.shears.trainer.checkpoint.CheckpointState;
import dev.shears.trainer.checkpoint.JobDirectory;
import dev.shears.trainer.checkpoint.Json;
import dev.shears.trainer.checkpoint.StepResult;
import dev.shears.trainer.data.Evaluation;
import dev.shears.trainer.data.JobInputs;
import dev.shears.trainer.metrics.TrainerMetrics;
import dev.shears.trainer.publish.Publication;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;

/**
 * One training job run in one process, start to finish: dense pre-training, every schedule step
 * (prune to the absolute target, fine-tune, evaluate, apply the accuracy budget, checkpoint), then
 * finalize and publish. Resumes from its last good checkpoint when there is one. The validation split decides the
 * accuracy budget; the table shows the test accuracy beside it.
 */
public final class TrainJob {
    private final Recipe recipe;
    private final Path out;
    private final JobInputs inputs;
    private final Progress progress;
    private final PrintStream report;
    private final TrainerMetrics metrics;

    /** The job's result: its steps and where the model went. */
    public record Summary(String job, List<StepResult> steps, Publication publication, double denseAccuracy,
            double finalAccuracy, double seconds, String restoredFrom) {
    }

    /**
     * @param recipe the job
     * @param out the job's directory: checkpoints, the published model and {@code summary.json}
     * @param inputs where the recipe's data set (and saved model, if any) are found
     * @param progress where progress is drawn
     * @param report where the per-step table is printed
     * @param metrics where metrics go
     */
    public TrainJob(Recipe recipe, Path out, JobInputs inputs, Progress progress, PrintStream report,
            TrainerMetrics metrics) {
        this.recipe = recipe;
        this.out = out;
        this.inputs = inputs;
        this.progress = progress;
        this.report = report;
        this.metrics = metrics;
    }

    public Summary run() throws IOException {
        long started = System.nanoTime();
        String job = recipe.job();
        JobDirectory dir = JobDirectory.at(out);
        JobSession session = JobSession.open(recipe, dir, inputs, progress, metrics);
        String restoredFrom = session.restored().map(r -> r.from().toString()).orElse(null);
        session.restored().ifPresent(r -> metrics.restored(job, 0));
        session.restored().ifPresent(r -> report.printf(Locale.ROOT, "resumed %s from %s: step %d done, iteration %d%n",
                job, r.from().getFileName(), r.state().seq(), r.state().iteration()));
        session.interrupted().ifPresent(i -> report.printf(Locale.ROOT, "step %d was interrupted: it goes on from"
                + " iteration %d of the step (its mid-step checkpoint), %d iterations lost%n", i.seq(), i.from(),
                i.lost()));
        Schedule schedule = Schedule.of(recipe.schedule());
        metrics.step(job, (int) Math.max(session.lastSeq(), 0), schedule.steps());

        printHeader();
        session.history().forEach(this::printRow);
        if (session.lastSeq() < 0) {
            long start = System.nanoTime();
            Evaluation eval = session.pretrain();
            long iterations = session.iteration();
            commit(session, new StepResult(0, 0, session.achievedSparsity(), session.layerSparsity(), eval, iterations,
                    seconds(start), session.samplesPerSecond(), "dense"));
        }
        for (SchedulePoint point : schedule.points()) {
            if (recipe.publish().isSensitivityReport()) {
                break; // the report analyses the dense model: no pruning step
            }
            if (point.step() <= session.lastSeq()) {
                continue;
            }
            metrics.step(job, point.step(), schedule.steps());
            if (!step(session, point)) {
                break;
            }
        }
        List<StepResult> history = session.history();
        Publication publication = session.publish();
        Summary summary = new Summary(job, history, publication, session.denseAccuracy(),
                history.get(history.size() - 1).accuracy(), seconds(started), restoredFrom);
        dir.writeSummary(Json.write(summary));
        return summary;
    }

    /**
     * One schedule step under the recipe's accuracy budget, decided by {@link BudgetPolicy} exactly as the scheduler
     * decides it: extra fine-tuning, or a roll-back to the last good checkpoint and a retry halfway to the target,
     * while retries are left; otherwise back to the last good checkpoint, and the job finalizes there.
     *
     * @return whether the schedule goes on
     */
    private boolean step(JobSession session, SchedulePoint point) throws IOException {
        long start = System.nanoTime();
        long before = session.iteration();
        AccuracyBudget budget = recipe.accuracyBudget();
        double target = point.targetSparsity();
        Evaluation eval = session.prune(point, recipe.fineTune().iterationsPerStep());
        String decision = "ok";
        for (int actions = 0;; actions++) {
            BudgetPolicy.Verdict verdict = BudgetPolicy.decide(budget, eval.accuracy(), session.denseAccuracy(),
                    actions);
            switch (verdict) {
                case ACCEPT -> {
                    commit(session, new StepResult(point.step(), target, session.achievedSparsity(),
                            session.layerSparsity(), eval, session.iteration() - before, seconds(start),
                            session.samplesPerSecond(), decision));
                    metrics.stepDuration(recipe.job(), Duration.ofNanos(System.nanoTime() - start));
                    return true;
                }
                case EXTRA_FINE_TUNE -> {
                    eval = session.fineTune("step " + point.step() + " extra", budget.extraIterations()
                            .orElse(recipe.fineTune().iterationsPerStep()));
                    decision = "extra fine-tune x" + (actions + 1);
                }
                case ROLLBACK -> {
                    double missed = eval.accuracy();
                    CheckpointState good = session.rollBack();
                    target = BudgetPolicy.smallerStep(good.targetSparsity(), target);
                    eval = session.prune(new SchedulePoint(point.step(), target, point.rewind()),
                            recipe.fineTune().iterationsPerStep());
                    decision = String.format(Locale.ROOT, "rollback x%d: %.4f below budget, retried at %.2f%%",
                            actions + 1, missed, 100 * target);
                }
                case STOP -> {
                    double missed = eval.accuracy();
                    CheckpointState good = session.rollBack();
                    StepResult kept = session.history().get(session.history().size() - 1);
                    printRow(new StepResult(point.step(), target, session.achievedSparsity(), session.layerSparsity(),
                            kept.accuracy(), kept.loss(), kept.testAccuracy(), kept.testLoss(),
                            session.iteration() - before, seconds(start),
                            session.samplesPerSecond(), String.format(Locale.ROOT,
                                    "stopped: accuracy %.4f below budget, back to step %d", missed, good.seq())));
                    return false;
                }
            }
        }
    }

    private void commit(JobSession session, StepResult result) throws IOException {
        session.commit(result);
        printRow(result);
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }

    private void printHeader() {
        report.printf(Locale.ROOT, "%n%-5s %8s %9s %9s %9s %8s %7s %10s  %s%n", "step", "target", "achieved",
                "val acc", "test acc", "val loss", "time", "samples/s", "decision");
    }

    private void printRow(StepResult r) {
        report.printf(Locale.ROOT, "%-5d %7.2f%% %8.2f%% %9.4f %9.4f %8.4f %6.0fs %10.0f  %s%n", r.seq(),
                100 * r.targetSparsity(), 100 * r.achievedSparsity(), r.accuracy(), r.testAccuracy(), r.loss(),
                r.seconds(), r.samplesPerSecond(), r.decision());
        report.flush();
    }
}
