package dev.shears.trainer.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.data.InputShape;
import dev.shears.common.events.CancelJob;
import dev.shears.common.events.CommandKey;
import dev.shears.common.events.Event;
import dev.shears.common.events.Finalize;
import dev.shears.common.events.JobFailed;
import dev.shears.common.events.JobResumed;
import dev.shears.common.events.JobStarted;
import dev.shears.common.events.ModelPublished;
import dev.shears.common.events.PruneStep;
import dev.shears.common.events.RollBack;
import dev.shears.common.events.SchedulerDecision;
import dev.shears.common.events.StepCompleted;
import dev.shears.trainer.cpu.FusedInference;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.checkpoint.JobDirectory;
import dev.shears.trainer.data.Subset;
import dev.shears.trainer.model.Models;
import dev.shears.broker.ManualClock;
import dev.shears.trainer.metrics.TrainerMetrics;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CancellationException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The worker's table of cases (common/EVENTS.md, "Ordering and exactly-once effect") on the quick
 * recipe and the committed Fashion-MNIST subset, with real checkpoints in a temporary work directory.
 */
class JobRunnerTest {
    static final String JOB = "quick-lenet5";
    static final long TOTAL = 150 + 2400 + 48000 + 10080 + 840;

    @TempDir
    Path work;

    final SimpleMeterRegistry registry = new SimpleMeterRegistry();
    final ManualClock clock = new ManualClock();
    final Map<String, TrainerMetrics> metrics = new HashMap<>();
    JobRunner runner;

    /** Worker {@code worker}'s metrics, on {@link #registry} and {@link #clock}. */
    TrainerMetrics metrics(String worker) {
        return metrics.computeIfAbsent(worker, w -> new TrainerMetrics(registry, w, TrainerMetrics.LINGER, clock));
    }

    JobRunner runner(String worker) {
        return new JobRunner(work, worker, metrics(worker), Subset.inputs(), Long.MAX_VALUE);
    }

    /** The quick recipe on the subset. */
    static String recipeYaml() throws Exception {
        return Files.readString(Path.of("src/test/resources/recipes/quick.yaml")) + "data: " + Subset.NAME + "\n";
    }

    static Event started() throws Exception {
        return Event.of(JOB, 0, new JobStarted(recipeYaml(), 3));
    }

    static Event step(int step, double target, long iterations, int attempt) {
        return Event.of(JOB, step, new PruneStep(step, target, iterations, false, attempt));
    }

    List<Event> apply(JobRunner r, Event command) {
        return r.apply(command, () -> false).reports();
    }

    List<Event> apply(Event command) {
        if (runner == null) {
            runner = runner("w1");
        }
        return apply(runner, command);
    }

    static StepCompleted completed(List<Event> reports) {
        assertThat(reports).hasSize(1);
        assertThat(reports.get(0).payload()).isInstanceOf(StepCompleted.class);
        return (StepCompleted) reports.get(0).payload();
    }

    List<Checkpoints.Checkpoint> checkpoints() throws Exception {
        return JobDirectory.in(work, JOB).checkpoints().list();
    }

    @Test
    void startsAJobWithDenseTrainingAndAcknowledgesARedeliveredStartFromTheCheckpoint() throws Exception {
        StepCompleted dense = completed(apply(started()));
        assertThat(dense.seq()).isZero();
        assertThat(dense.attempt()).isEqualTo(1);
        assertThat(dense.redelivered()).isFalse();
        assertThat(dense.achievedSparsity()).isZero();
        assertThat(dense.accuracy()).isGreaterThan(0.5);
        assertThat(dense.worker()).isEqualTo("w1");
        assertThat(checkpoints()).extracting(Checkpoints.Checkpoint::id).containsExactly(dense.checkpointId());

        StepCompleted again = completed(apply(started()));
        assertThat(again.redelivered()).isTrue();
        assertThat(again).usingRecursiveComparison().ignoringFields("redelivered").isEqualTo(dense);
        assertThat(checkpoints()).hasSize(1);
    }

    /**
     * Two jobs interleaved on one runner whose session budget holds none: each command closes the other job's session,
     * and the next one reopens it from its checkpoint (model, updater, data position, normalisation), so every step
     * reports exactly what a runner that keeps both sessions open reports.
     */
    @Test
    void sessionsPastTheBudgetAreClosedAndReopenFromTheirCheckpointsWithTheSameResults(@TempDir Path other)
            throws Exception {
        JobRunner open = new JobRunner(work, "w1", new TrainerMetrics(registry, "w1"), Subset.inputs(),
                Long.MAX_VALUE);
        SimpleMeterRegistry tightRegistry = new SimpleMeterRegistry();
        JobRunner tight = new JobRunner(other, "w2", new TrainerMetrics(tightRegistry, "w2"), Subset.inputs(), 0);
        List<Event> commands = List.of(Event.of("job-a", 0, new JobStarted(recipeYaml(), 2)),
                Event.of("job-b", 0, new JobStarted(recipeYaml(), 2)),
                Event.of("job-a", 1, new PruneStep(1, 0.5, 10, false, 1)),
                Event.of("job-b", 1, new PruneStep(1, 0.5, 10, false, 1)),
                Event.of("job-a", 2, new PruneStep(2, 0.8, 10, false, 1)),
                Event.of("job-b", 2, new PruneStep(2, 0.8, 10, false, 1)));

        for (Event command : commands) {
            StepCompleted kept = completed(apply(open, command));
            StepCompleted reopened = completed(apply(tight, command));

            assertThat(reopened).usingRecursiveComparison().ignoringFields("checkpointId", "worker").isEqualTo(kept);
            assertThat(tightRegistry.get("shears.worker.sessions").gauge().value()).isEqualTo(1);
        }
        assertThat(registry.get("shears.worker.sessions").gauge().value()).isEqualTo(2);
        assertThat(registry.get("shears.worker.session.bytes").gauge().value()).isPositive();
    }

    /** {@code model: file:<name>} names a saved network under the worker's model roots; the job starts from it. */
    @Test
    void aSavedModelIsFoundByItsNameUnderTheModelRoot(@TempDir Path models) throws Exception {
        MultiLayerNetwork saved = Models.lenet5(InputShape.FASHION_MNIST, 10, 3, new Nesterovs(0.01, 0.9), 0);
        ModelSerializer.writeModel(saved,
                Files.createDirectories(models.resolve("team")).resolve("lenet5.zip").toFile(),
                true);
        JobRunner withModels = new JobRunner(work, "w1", new TrainerMetrics(registry, "w1"),
                Subset.inputs(List.of(models)), Long.MAX_VALUE);

        StepCompleted dense = completed(apply(withModels, Event.of(JOB, 0, new JobStarted(
                recipeYaml().replace("model: lenet5", "model: file:team/lenet5.zip"), 3))));

        assertThat(dense.accuracy()).isGreaterThan(0.5);
        assertThat(dense.layerSparsity()).containsKeys("conv1.weight", "fc3.weight");
    }

    @Test
    void timesEachAppliedCommandFromItsCreationToItsEffectButNotARedelivery() throws Exception {
        apply(started());
        Event created2sAgo = Event.of(JOB, 1, Instant.now().minusSeconds(2), new PruneStep(1, 0.5, 5, false, 1));
        apply(created2sAgo);
        apply(created2sAgo);

        Timer pruneSteps = registry.get("shears.worker.command.latency").tags("type", "PruneStep", "worker", "w1")
                .timer();
        assertThat(pruneSteps.count()).isEqualTo(1);
        assertThat(pruneSteps.totalTime(TimeUnit.MILLISECONDS)).isBetween(2_000.0, 60_000.0);
        assertThat(registry.get("shears.worker.command.latency").tags("type", "JobStarted").timer().count())
                .isEqualTo(1);
    }

    @Test
    void appliesTheNextStepOnceAndAcknowledgesItsRedeliveryWithoutTraining() throws Exception {
        apply(started());
        StepCompleted first = completed(apply(step(1, 0.5, 5, 1)));
        assertThat(first.seq()).isEqualTo(1);
        assertThat(first.achievedSparsity() * TOTAL).isEqualTo((double) Math.rint(0.5 * TOTAL));
        assertThat(first.layerSparsity()).containsKeys("conv1.weight", "fc3.weight");
        assertThat(first.redelivered()).isFalse();
        List<Checkpoints.Checkpoint> before = checkpoints();

        StepCompleted again = completed(apply(step(1, 0.5, 5, 1)));
        assertThat(again.redelivered()).isTrue();
        assertThat(again.checkpointId()).isEqualTo(first.checkpointId());
        assertThat(again.accuracy()).isEqualTo(first.accuracy());
        assertThat(checkpoints()).isEqualTo(before);
    }

    @Test
    void fineTunesMoreForAHigherAttemptOfTheSameStepAndThenIgnoresTheSupersededOne() throws Exception {
        apply(started());
        StepCompleted first = completed(apply(step(1, 0.5, 5, 1)));
        StepCompleted extra = completed(apply(step(1, 0.5, 7, 2)));
        assertThat(extra.attempt()).isEqualTo(2);
        assertThat(extra.seq()).isEqualTo(1);
        assertThat(extra.achievedSparsity()).isEqualTo(first.achievedSparsity());
        assertThat(extra.checkpointId()).isNotEqualTo(first.checkpointId());
        Checkpoints.Checkpoint newest = checkpoints().get(checkpoints().size() - 1);
        assertThat(newest.id()).isEqualTo(extra.checkpointId());
        assertThat(newest.attempt()).isEqualTo(2);
        assertThat(Checkpoints.readState(newest.dir()).iteration())
                .isEqualTo(Checkpoints.readState(work.resolve("jobs/" + JOB + "/checkpoints/" + first.checkpointId()))
                        .iteration() + 7);

        assertThat(runner.apply(step(1, 0.5, 5, 1), () -> false).reports()).isEmpty();
        assertThat(runner.apply(step(1, 0.5, 5, 1), () -> false).summary()).startsWith("superseded");
        StepCompleted next = completed(apply(step(2, 0.7, 3, 2)));
        assertThat(next.seq()).isEqualTo(2);
        assertThat(next.attempt()).isEqualTo(2);
    }

    @Test
    void rollsBackToAKeptCheckpointAndGoesOnFromThereUnderTheNewAttempt() throws Exception {
        apply(started());
        StepCompleted one = completed(apply(step(1, 0.3, 3, 1)));
        apply(step(2, 0.6, 3, 1));

        List<Event> resumed = apply(Event.of(JOB, 2, new RollBack(1, 2, "accuracy below budget")));
        assertThat(resumed).singleElement().satisfies(e -> {
            assertThat(e.seq()).isEqualTo(1);
            assertThat(e.payload()).isEqualTo(JobResumed.of(new CommandKey(2, 1), 1, "w1"));
        });
        // a redelivered roll-back is acknowledged again, not applied again
        assertThat(apply(Event.of(JOB, 2, new RollBack(1, 2, "accuracy below budget"))))
                .extracting(Event::payload).containsExactly(JobResumed.of(new CommandKey(2, 1), 1, "w1"));

        StepCompleted two = completed(apply(step(2, 0.5, 3, 2)));
        assertThat(two.attempt()).isEqualTo(2);
        assertThat(two.achievedSparsity() * TOTAL).isEqualTo((double) Math.rint(0.5 * TOTAL));
        // and a second worker that opens the job now resumes from the step of the new attempt
        JobRunner other = runner("w2");
        List<Event> redelivered = apply(other, step(2, 0.5, 3, 2));
        assertThat(redelivered).extracting(Event::payload).first()
                .isEqualTo(JobResumed.of(new CommandKey(2, 2), 0, "w2"));
        assertThat(((StepCompleted) redelivered.get(1).payload()).checkpointId()).isEqualTo(two.checkpointId());
        assertThat(apply(Event.of(JOB, 2, new RollBack(1, 2, "late")))).isEmpty();
        assertThat(one.checkpointId()).isNotEqualTo(two.checkpointId());
    }

    /**
     * A PruneStep of the checkpoint's seq under a higher attempt at another target is the step a roll-back retries,
     * arriving without its roll-back (one that failed): it used to be applied as an extra fine-tune of the over-pruned
     * model. It is refused now, and applies once the roll-back came.
     */
    @Test
    void anExtraFineTuneIsAcceptedOnlyAtTheCheckpointsTarget() throws Exception {
        apply(started());
        apply(step(1, 0.3, 3, 1));
        apply(step(2, 0.6, 3, 1));
        List<Checkpoints.Checkpoint> before = checkpoints();

        List<Event> refused = apply(step(2, 0.45, 3, 2));
        assertThat(refused).singleElement().satisfies(e -> {
            JobFailed f = (JobFailed) e.payload();
            assertThat(f.command()).isEqualTo("PruneStep");
            assertThat(f.attempt()).isEqualTo(2);
            assertThat(f.retryable()).isFalse();
            assertThat(f.reason())
                    .contains("not an extra fine-tune of the checkpoint (attempt 1, seq 2), pruned to 0.6")
                    .contains("fix:");
        });
        assertThat(checkpoints()).isEqualTo(before);

        apply(Event.of(JOB, 2, new RollBack(1, 2, "accuracy below budget")));
        StepCompleted retried = completed(apply(step(2, 0.45, 3, 2)));
        assertThat(retried.attempt()).isEqualTo(2);
        assertThat(retried.targetSparsity()).isEqualTo(0.45);
        assertThat(completed(apply(step(2, 0.45, 5, 3))).attempt()).as("an extra fine-tune at the checkpoint's target")
                .isEqualTo(3);
    }

    /**
     * The extra fine-tune's checkpoint is found damaged after the scheduler accepted it and sent Finalize: the worker
     * falls back to the step's first checkpoint, the model the accuracy budget refused. It used to publish that one.
     */
    @Test
    void aFinalizeOfAnotherAttemptThanTheCheckpointsIsRefusedAndTheLostKeyReported() throws Exception {
        apply(started());
        apply(step(1, 0.5, 3, 1));
        StepCompleted extra = completed(apply(step(1, 0.5, 3, 2)));
        runner.forget(JOB);
        Path model = work.resolve("jobs").resolve(JOB).resolve("checkpoints").resolve(extra.checkpointId())
                .resolve("model.zip");
        byte[] bytes = Files.readAllBytes(model);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(model, bytes);

        List<Event> reports = apply(Event.of(JOB, 4, new Finalize(1, 2)));
        assertThat(reports).extracting(Event::payload).first()
                .isEqualTo(new JobResumed(1, 1, 0, List.of(new CommandKey(2, 1)), "w1"));
        assertThat(reports.get(1).payload()).isInstanceOfSatisfying(JobFailed.class, f -> {
            assertThat(f.command()).isEqualTo("Finalize");
            assertThat(f.attempt()).isEqualTo(2);
            assertThat(f.retryable()).isFalse();
            assertThat(f.reason()).contains("checkpoint (attempt 2, seq 1)").contains("(attempt 1, seq 1)");
        });
        assertThat(reports).hasSize(2);
        assertThat(work.resolve("jobs").resolve(JOB).resolve("models")).as("nothing published").doesNotExist();

        // the scheduler sends the lost extra fine-tune again under a new attempt, then its Finalize
        StepCompleted again = completed(apply(step(1, 0.5, 3, 3)));
        assertThat(apply(Event.of(JOB, 4, new Finalize(1, again.attempt())))).extracting(e -> e.payload().type())
                .containsExactly("ModelPublished");
    }

    @Test
    void aFailuresReasonIsCutToTheEventsLimitInBytesBetweenCharacters() throws Exception {
        StringBuilder yaml = new StringBuilder("job: quick-lenet5\nmodel: lenet5\n");
        for (int i = 0; i < 400; i++) {
            yaml.append("\u043a\u043b\u044e\u0447".repeat(15)).append(i).append(": 1\n"); // Cyrillic, 2 bytes a letter
        }
        JobFailed failed = (JobFailed) apply(Event.of(JOB, 0, new JobStarted(yaml.toString(), 3))).get(0).payload();

        assertThat(failed.reason()).startsWith("the recipe cannot be used");
        assertThat(failed.reason().getBytes(java.nio.charset.StandardCharsets.UTF_8).length)
                .isBetween(JobFailed.MAX_REASON_BYTES - 3, JobFailed.MAX_REASON_BYTES);
    }

    @Test
    void reportsAGapAsAFailureThatIsNotRetryable() throws Exception {
        List<Event> noStart = apply(step(1, 0.5, 3, 1));
        assertThat(work.resolve("jobs").resolve(JOB)).as("a command for an unknown job leaves nothing").doesNotExist();
        assertThat(noStart).singleElement().satisfies(e -> {
            JobFailed f = (JobFailed) e.payload();
            assertThat(f.retryable()).isFalse();
            assertThat(f.reason()).contains("no checkpoint").contains("fix:");
        });
        apply(started());
        List<Event> skipped = apply(step(2, 0.5, 3, 1));
        assertThat(((JobFailed) skipped.get(0).payload()).reason()).contains("(attempt 1, seq 0)");
        assertThat(checkpoints()).hasSize(1);
        lingerPasses();
        assertThat(metersOfTheJob()).as("a job failed for good keeps no metrics here").isZero();
        assertThat(apply(Event.of(JOB, 4, new Finalize(3, 1)))).extracting(e -> e.payload().type())
                .containsExactly("JobFailed");
    }

    @Test
    void refusesARecipeItCannotUseWithoutRetrying() throws Exception {
        List<Event> reports = apply(Event.of(JOB, 0, new JobStarted("job: quick-lenet5\nmodel: lenet5\nwhat: 1\n", 3)));
        JobFailed failed = (JobFailed) reports.get(0).payload();
        assertThat(failed.retryable()).isFalse();
        assertThat(failed.reason()).contains("what");
        assertThat(checkpoints()).isEmpty();
    }

    @Test
    void publishesOnFinalizeAndAnswersARedeliveredFinalizeWithTheSamePublication() throws Exception {
        apply(started());
        apply(step(1, 0.5, 3, 1));
        List<Event> first = apply(Event.of(JOB, 4, new Finalize(1, 1)));
        ModelPublished published = (ModelPublished) first.get(0).payload();
        assertThat(first.get(0).seq()).isEqualTo(4);
        assertThat(Checkpoints.sha256(Path.of(published.path()))).isEqualTo(published.sha256());
        assertThat(published.sparsity()).isEqualTo(0.5, org.assertj.core.data.Offset.offset(1e-4));
        assertThat(published.denseParameters()).isEqualTo(published.parameters()).isEqualTo(61_706);
        assertThat(published.flops()).isEqualTo(published.denseFlops()).isPositive();
        assertThat(published.latencyMs()).isPositive();
        assertThat(published.batchLatencyMs()).isPositive();
        if (FusedInference.available()) {
            assertThat(published.fusedLatencyMs()).isPositive();
            assertThat(published.denseFusedBatchLatencyMs()).isPositive();
        }

        assertThat(apply(Event.of(JOB, 4, new Finalize(1, 1)))).extracting(Event::payload).containsExactly(published);
        assertThat(apply(runner("w2"), Event.of(JOB, 4, new Finalize(1, 1)))).extracting(Event::payload)
                .contains(published);
        assertThat(((JobFailed) apply(step(2, 0.6, 3, 1)).get(0).payload()).reason()).contains("published");
    }

    @Test
    void aJobThatPublishesASensitivityReportAnswersFinalizeOfItsDenseStepWithTheReport() throws Exception {
        String yaml = Files.readString(Path.of("src/test/resources/recipes/quick-resnet.yaml"))
                .replace("publish:\n  name: quick-resnet\n",
                        "publish:\n  name: quick-resnet\n  artifact: sensitivity\n")
                + "data: " + Subset.NAME + "\n";
        assertThat(yaml).contains("artifact: sensitivity");
        assertThat(completed(apply(Event.of("quick-resnet", 0, new JobStarted(yaml, 2)))).seq()).isZero();

        List<Event> reports = apply(Event.of("quick-resnet", 3, new Finalize(0, 1)));

        ModelPublished report = (ModelPublished) reports.get(0).payload();
        assertThat(Path.of(report.path()).getFileName()).hasToString("sensitivity.json");
        assertThat(Checkpoints.sha256(Path.of(report.path()))).isEqualTo(report.sha256());
        assertThat(report.sparsity()).isZero();
        assertThat(Path.of(report.path()).resolveSibling("sensitivity.png")).isRegularFile();
        assertThat(apply(runner("w2"), Event.of("quick-resnet", 3, new Finalize(0, 1)))).extracting(Event::payload)
                .contains(report);
    }

    long metersOfTheJob() {
        return registry.getMeters().stream().filter(m -> JOB.equals(m.getId().getTag("job"))).count();
    }

    /** The time a job's metrics linger after it ended passes, and the worker sweeps them (as a scrape does). */
    void lingerPasses() {
        clock.advance(TrainerMetrics.LINGER);
        metrics("w1").sweep();
    }

    @Test
    void aJobsMetricsAreRemovedOnceItIsPublishedAndTheirLingerPassed() throws Exception {
        apply(started());
        apply(step(1, 0.5, 3, 1));
        long meters = metersOfTheJob();
        assertThat(meters).isPositive();

        apply(Event.of(JOB, 4, new Finalize(1, 1)));
        assertThat(metersOfTheJob()).as("the scrapes after the last step still see it").isEqualTo(meters);

        lingerPasses();
        assertThat(metersOfTheJob()).isZero();
    }

    @Test
    void aJobsMetricsAreRemovedWhenItIsLetGoOrCancelledAndComeBackWithIt() throws Exception {
        apply(started());
        runner.release(JOB); // its partition moved to another worker
        lingerPasses();
        assertThat(metersOfTheJob()).isZero();

        apply(step(1, 0.5, 3, 1)); // and came back
        assertThat(metersOfTheJob()).isPositive();
        apply(Event.of(JOB, 1, new CancelJob("cancelled by alice")));

        lingerPasses();
        assertThat(metersOfTheJob()).isZero();
    }

    @Test
    void aFinalizeRedeliveredAfterAStopBetweenPublishingAndRecordingItPublishesNoSecondVersion() throws Exception {
        apply(started());
        apply(step(1, 0.5, 3, 1));
        ModelPublished published = (ModelPublished) apply(Event.of(JOB, 4, new Finalize(1, 1))).get(0).payload();
        Path models = Path.of(published.path()).getParent().getParent();
        // the stop: the version directory was moved into place, latest and published.json were not written (latest
        // is left pointing at an older version, so that it has to be pointed again)
        Files.delete(work.resolve("jobs").resolve(JOB).resolve("published.json"));
        Files.delete(models.resolve("latest"));
        Path older = Files.createDirectories(models.resolve("20000101T000000Z-step1"));
        Files.copy(models.resolve(published.version()).resolve("manifest.json"), older.resolve("manifest.json"));
        Files.writeString(older.resolve("manifest.json"), Files.readString(older.resolve("manifest.json"))
                .replace("ckpt-", "other-ckpt-"));
        Files.createSymbolicLink(models.resolve("latest"), older.getFileName());

        List<Event> again = apply(runner("w2"), Event.of(JOB, 4, new Finalize(1, 1)));
        assertThat(again).extracting(Event::payload).containsExactly(JobResumed.of(new CommandKey(1, 1), 0, "w2"),
                published);
        try (var versions = Files.list(models)) {
            assertThat(versions.map(v -> v.getFileName().toString())).containsExactlyInAnyOrder(published.version(),
                    older.getFileName().toString(), "latest");
        }
        assertThat(Files.readSymbolicLink(models.resolve("latest"))).hasToString(published.version());
        assertThat(work.resolve("jobs").resolve(JOB).resolve("published.json")).exists();
        assertThat(apply(Event.of(JOB, 4, new Finalize(1, 1)))).extracting(Event::payload).containsExactly(published);
    }

    /**
     * A worker stopped in the middle of a step (as a crash or a lost partition stops it) leaves its mid-step
     * checkpoint; the worker the command goes to next takes the step up from there, reports where it went on from in
     * its JobResumed, and completes the step as a worker that was never stopped does.
     */
    @Test
    void aStepInterruptedMidWayIsTakenUpByTheNextWorkerFromItsMidStepCheckpoint(@TempDir Path other) throws Exception {
        String yaml = recipeYaml().replace("checkpoints:\n  keepLast: 2\n",
                "checkpoints:\n  keepLast: 2\n  every: 5\n");
        assertThat(yaml).contains("every: 5");
        Event start = Event.of(JOB, 0, new JobStarted(yaml, 3));
        Event prune = step(1, 0.5, 20, 1);
        JobRunner straight = new JobRunner(other, "w0", new TrainerMetrics(new SimpleMeterRegistry(), "w0"),
                Subset.inputs(), Long.MAX_VALUE);
        completed(apply(straight, start));
        StepCompleted uninterrupted = completed(apply(straight, prune));

        completed(apply(start));
        AtomicInteger batches = new AtomicInteger();
        assertThatThrownBy(() -> runner.apply(prune, () -> batches.incrementAndGet() > 13))
                .isInstanceOf(CancellationException.class);
        assertThat(checkpoints()).extracting(Checkpoints.Checkpoint::seq).containsExactly(0L);

        List<Event> reports = apply(runner("w2"), prune);

        assertThat(reports).hasSize(2);
        JobResumed resumed = (JobResumed) reports.get(0).payload();
        assertThat(resumed.restoredSeq()).isZero();
        assertThat(resumed.resumedIteration()).as("the second mid-step checkpoint's").isEqualTo(10);
        assertThat(resumed.iterationsLost()).as("noted past it").isBetween(0L, 3L);
        StepCompleted taken = (StepCompleted) reports.get(1).payload();
        assertThat(taken).usingRecursiveComparison().ignoringFields("checkpointId", "worker").isEqualTo(uninterrupted);
        assertThat(JobDirectory.in(work, JOB).checkpoints().midStepState()).isEmpty();
    }

    @Test
    void aStoppedStepAppliesNothingAndIsRedoneByTheNextDelivery() throws Exception {
        apply(started());
        runner.forget(JOB);
        AtomicInteger batches = new AtomicInteger();
        assertThatThrownBy(() -> runner.apply(step(1, 0.5, 50, 1), () -> batches.incrementAndGet() > 3))
                .isInstanceOf(CancellationException.class);
        assertThat(checkpoints()).extracting(Checkpoints.Checkpoint::seq).containsExactly(0L);

        StepCompleted redone = completed(apply(step(1, 0.5, 5, 1)));
        assertThat(redone.redelivered()).isFalse();
        assertThat(redone.achievedSparsity() * TOTAL).isEqualTo((double) Math.rint(0.5 * TOTAL));
    }

    /**
     * A worker that lost the job's partition while training (a zombie) and the partition's new owner start the same
     * step at once: the new owner waits for the job's lock, then acknowledges the zombie's step from its checkpoint.
     */
    @Test
    void twoWorkersGivenTheSameStepAtOnceApplyItOnce() throws Exception {
        apply(started());
        JobRunner zombie = runner;
        JobRunner owner = runner("w2");
        java.util.concurrent.CountDownLatch training = new java.util.concurrent.CountDownLatch(1);
        AtomicInteger batches = new AtomicInteger();
        var first = java.util.concurrent.CompletableFuture.supplyAsync(() -> zombie.apply(step(1, 0.5, 8, 1), () -> {
            if (batches.incrementAndGet() == 2) {
                training.countDown();
                sleepMillis(500); // the new owner arrives while this one trains
            }
            return false;
        }).reports());
        assertThat(training.await(60, TimeUnit.SECONDS)).isTrue();
        List<Event> answer = apply(owner, step(1, 0.5, 8, 1));
        assertThat(answer).extracting(Event::payload).first().isEqualTo(JobResumed.of(new CommandKey(1, 1), 0, "w2"));
        StepCompleted second = completed(answer.subList(1, 2));
        StepCompleted applied = completed(first.get(60, TimeUnit.SECONDS));

        assertThat(applied.redelivered()).as("the zombie applied it").isFalse();
        assertThat(second.redelivered()).as("the new owner acknowledged it from the checkpoint").isTrue();
        assertThat(second.checkpointId()).isEqualTo(applied.checkpointId());
        assertThat(checkpoints()).extracting(Checkpoints.Checkpoint::seq).containsExactly(0L, 1L);
    }

    @Test
    void aStepWaitingForAnotherWorkersLockStopsWhenTold() throws Exception {
        apply(started());
        JobDirectory jobDir = JobDirectory.in(work, JOB);
        try (JobLock held = JobLock.acquire(jobDir, "w9", () -> false, holder -> {})) {
            long until = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(300);
            assertThatThrownBy(() -> runner("w2").apply(step(1, 0.5, 3, 1), () -> System.nanoTime() > until))
                    .isInstanceOf(CancellationException.class);
            assertThat(Files.readString(jobDir.lockFile())).startsWith("w9 (pid ");
        }
        assertThat(completed(apply(step(1, 0.5, 3, 1))).redelivered()).isFalse();
    }

    /** A worker whose open session fell behind the disk (another worker went on meanwhile) never trusts it. */
    @Test
    void aWorkerWhoseSessionFellBehindReadsTheJobFromDiskAgain() throws Exception {
        apply(started());
        apply(step(1, 0.5, 3, 1));
        JobRunner other = runner("w2");
        StepCompleted two = completed(apply(other, step(2, 0.6, 3, 1)).subList(1, 2));

        List<Event> again = apply(step(2, 0.6, 3, 1)); // w1 still has its session at step 1 open
        assertThat(again).extracting(e -> e.payload().type()).containsExactly("JobResumed", "StepCompleted");
        StepCompleted redelivered = completed(again.subList(1, 2));
        assertThat(redelivered.redelivered()).isTrue();
        assertThat(redelivered.checkpointId()).isEqualTo(two.checkpointId());
    }

    static void sleepMillis(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    @Test
    void anotherWorkerResumesFromTheCheckpointAndSaysSo() throws Exception {
        apply(started());
        apply(step(1, 0.5, 3, 1));

        JobRunner other = runner("w2");
        List<Event> reports = apply(other, step(2, 0.6, 3, 1));
        assertThat(reports).extracting(Event::payload).first().isEqualTo(JobResumed.of(new CommandKey(1, 1), 0, "w2"));
        assertThat(completed(reports.subList(1, 2)).seq()).isEqualTo(2);
        assertThat(registry.get("shears.restores").tag("worker", "w2").counter().count()).isEqualTo(1);
        // once told, it does not say it again
        assertThat(apply(other, step(3, 0.7, 3, 1))).hasSize(1);
    }

    @Test
    void aWorkerThatGetsAJobBackPastADamagedCheckpointSaysSoOnceAndThenAppliesTheRedo() throws Exception {
        JobRunner w1 = runner("w1");
        apply(w1, started());
        w1.forget(JOB); // the partition moves to w2, which applies step 1
        JobRunner w2 = runner("w2");
        apply(w2, step(1, 0.5, 3, 1));
        Path model = checkpoints().get(1).dir().resolve("model.zip");
        byte[] bytes = Files.readAllBytes(model);
        bytes[bytes.length / 2] ^= 0x5a;
        Files.write(model, bytes);

        // The partition comes back to w1, whose last known checkpoint (seq 0) is now again the newest that verifies.
        // Step 2 of attempt 1 is stale now: the scheduler, told of the loss, redoes from step 1 under attempt 2.
        JobRunner.Outcome stale = w1.apply(step(2, 0.6, 3, 1), () -> false);
        assertThat(stale.reports()).extracting(Event::payload).containsExactly(new JobResumed(0, 1, 1,
                List.of(new CommandKey(1, 1)), "w1"));
        assertThat(stale.summary()).contains("superseded");
        // Step 1 of attempt 1 delivered again (a duplicate, or a command queued behind the lost one) is not applied a
        // second time, although the job is back at step 0: that key was applied once already.
        JobRunner.Outcome again = w1.apply(step(1, 0.5, 3, 1), () -> false);
        assertThat(again.reports()).isEmpty();
        assertThat(again.summary()).contains("was applied before");
        assertThat(checkpoints()).extracting(Checkpoints.Checkpoint::seq).containsExactly(0L);
        // The scheduler re-sends step 1 under attempt 2: applied once, without a second JobResumed.
        List<Event> redo = apply(w1, step(1, 0.5, 3, 2));
        StepCompleted done = completed(redo);
        assertThat(done.seq()).isEqualTo(1);
        assertThat(done.attempt()).isEqualTo(2);
        assertThat(done.redelivered()).isFalse();
    }

    @Test
    void aCancelledJobAppliesNoMoreCommandsAndADecisionDoesNothing() throws Exception {
        apply(started());
        assertThat(apply(Event.of(JOB, 0, new SchedulerDecision(0, "stop", "")))).isEmpty();
        assertThat(apply(Event.of(JOB, 0, new CancelJob("cancelled by alice")))).isEmpty();
        JobFailed f = (JobFailed) apply(step(1, 0.5, 3, 1)).get(0).payload();
        assertThat(f.reason()).contains("cancelled by alice");
        assertThat(checkpoints()).hasSize(1);
    }
}
