package dev.shears.trainer.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.recipe.Checkpoints.Every;
import dev.shears.common.recipe.Recipe;
import dev.shears.common.schedule.SchedulePoint;
import dev.shears.trainer.checkpoint.CheckpointState;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.checkpoint.JobDirectory;
import dev.shears.trainer.checkpoint.StepResult;
import dev.shears.trainer.data.Evaluation;
import dev.shears.trainer.data.Subset;
import dev.shears.trainer.metrics.TrainerMetrics;
import dev.shears.trainer.model.TrainableModel;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CancellationException;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Checkpoints inside a step: a step interrupted after a mid-step checkpoint (its session dropped, as a crash drops it)
 * goes on from there when the job is opened again and ends with the same bits as the step run straight through; the
 * mid-step checkpoint is never a committed step.
 */
class MidStepCheckpointTest {
    static final int EVERY = 7;
    static final SchedulePoint STEP_1 = new SchedulePoint(1, 0.5, false);
    static final long FINE_TUNE = 30;

    @TempDir
    Path straight;
    @TempDir
    Path interrupted;

    /** The quick recipe on the subset, with a mid-step checkpoint every {@link #EVERY} iterations. */
    static Recipe recipe() throws Exception {
        Recipe q = TrainJobTest.quick();
        return new Recipe(q.job(), q.model(), q.data(), q.training(), q.pruning(), q.schedule(), q.fineTune(),
                q.accuracyBudget(), new dev.shears.common.recipe.Checkpoints(q.checkpoints().keepLast(),
                        Every.iterations(EVERY)),
                q.publish());
    }

    static JobSession open(Path dir) throws Exception {
        return JobSession.open(recipe(), JobDirectory.at(dir), Subset.inputs(), Progress.silent(),
                new TrainerMetrics(new SimpleMeterRegistry(), "test"));
    }

    static void commitDense(JobSession session) throws Exception {
        Evaluation eval = session.pretrain();
        session.commit(new StepResult(0, 0, 0, session.layerSparsity(), eval, session.iteration(), 0, 0, "dense"));
    }

    static void commitStep1(JobSession session) throws Exception {
        Evaluation eval = session.prune(STEP_1, FINE_TUNE);
        session.commit(new StepResult(1, STEP_1.targetSparsity(), session.achievedSparsity(),
                session.layerSparsity(), eval, FINE_TUNE, 0, 0, "ok"));
    }

    /** Trains until {@code at} iterations are done in all, then drops the session: a crash, for the job's files. */
    static void interruptAt(JobSession session, long at, TrainingStep step) {
        session.stopWhen(() -> session.iteration() >= at);
        assertThatThrownBy(() -> step.run(session)).isInstanceOf(CancellationException.class);
    }

    /**
     * Trains the dense step of the job in {@link #interrupted} and interrupts step 1 after {@code k} of its
     * iterations; returns the dense iterations.
     */
    long interruptStep1After(long k) throws Exception {
        JobSession session = open(interrupted);
        commitDense(session);
        long dense = session.iteration();
        interruptAt(session, dense + k, s -> s.prune(STEP_1, FINE_TUNE));
        return dense;
    }

    interface TrainingStep {
        void run(JobSession session) throws Exception;
    }

    @Test
    void aPruningStepInterruptedMidWayGoesOnFromItsMidStepCheckpointToTheSameBits() throws Exception {
        JobSession a = open(straight);
        commitDense(a);
        commitStep1(a);

        interruptStep1After(2 * EVERY + 3);
        Checkpoints checkpoints = JobDirectory.at(interrupted).checkpoints();
        assertThat(checkpoints.list()).extracting(Checkpoints.Checkpoint::seq).as("no step committed")
                .containsExactly(0L);
        String base = checkpoints.list().get(0).id();
        assertThat(checkpoints.interrupted(base)).hasValueSatisfying(i -> {
            assertThat(i.from()).as("the second mid-step checkpoint").isEqualTo(2 * EVERY);
            assertThat(i.lost()).as("what was noted past it").isBetween(0L, 3L);
        });

        JobSession resumed = open(interrupted);
        assertThat(resumed.lastSeq()).as("restored: the dense step's checkpoint, not the mid-step one").isZero();
        assertThat(resumed.interrupted()).hasValueSatisfying(i -> assertThat(i.from()).isEqualTo(2 * EVERY));
        commitStep1(resumed);

        assertSameCheckpoint(straight, interrupted);
        assertThat(checkpoints.midStepState()).as("superseded by the step's checkpoint").isEmpty();
        assertThat(checkpoints.interrupted(checkpoints.list().get(1).id())).isEmpty();
    }

    @Test
    void denseTrainingInterruptedMidWayGoesOnFromItsMidStepCheckpointToTheSameBits() throws Exception {
        commitDense(open(straight));

        JobSession b = open(interrupted);
        long dense = b.denseIterations();
        interruptAt(b, dense - 2, s -> s.pretrain());
        long from = (dense - 2) / EVERY * EVERY;
        assertThat(JobDirectory.at(interrupted).checkpoints().list()).isEmpty();

        JobSession resumed = open(interrupted);
        assertThat(resumed.lastSeq()).isEqualTo(-1);
        assertThat(resumed.beginStep(0, 1, 0, dense)).hasValueSatisfying(i -> assertThat(i.from()).isEqualTo(from));
        commitDense(resumed);

        assertSameCheckpoint(straight, interrupted);
    }

    @Test
    void theIterationsLostAreThoseNotedPastTheMidStepCheckpoint() throws Exception {
        interruptStep1After(EVERY + 5);
        Checkpoints checkpoints = JobDirectory.at(interrupted).checkpoints();
        String base = checkpoints.list().get(0).id();
        // the interrupted session's last note, as its training makes one every few seconds
        checkpoints.noteProgress(new Checkpoints.StepProgress(1, 1, base, EVERY + 5));

        assertThat(open(interrupted).beginStep(1, 1, STEP_1.targetSparsity(), FINE_TUNE))
                .hasValue(new Checkpoints.Interrupted(1, 1, EVERY, 5));
    }

    @Test
    void aMidStepCheckpointOfAnotherCommandIsNotTakenUp() throws Exception {
        long dense = interruptStep1After(EVERY + 1);

        JobSession again = open(interrupted);
        assertThat(again.beginStep(1, 2, STEP_1.targetSparsity(), FINE_TUNE)).as("another attempt").isEmpty();
        assertThat(again.beginStep(1, 1, 0.6, FINE_TUNE)).as("another target").isEmpty();
        assertThat(again.beginStep(1, 1, STEP_1.targetSparsity(), FINE_TUNE + 1)).as("other iterations").isEmpty();
        assertThat(again.iteration()).as("nothing taken up").isEqualTo(dense);
    }

    @Test
    void withMidStepCheckpointsOffAnInterruptedStepStartsOver() throws Exception {
        Recipe q = recipe();
        Recipe off = new Recipe(q.job(), q.model(), q.data(), q.training(), q.pruning(), q.schedule(), q.fineTune(),
                q.accuracyBudget(), new dev.shears.common.recipe.Checkpoints(2, Every.OFF), q.publish());
        JobSession b = JobSession.open(off, JobDirectory.at(interrupted), Subset.inputs(), Progress.silent(),
                new TrainerMetrics(new SimpleMeterRegistry(), "test"));
        commitDense(b);
        interruptAt(b, b.iteration() + FINE_TUNE - 1, s -> s.prune(STEP_1, FINE_TUNE));

        assertThat(JobDirectory.at(interrupted).checkpoints().midStepState()).isEmpty();
    }

    /** Every value of {@code x} as its float's bits: equal arrays are bit-identical. */
    static int[] bits(INDArray x) {
        float[] values = x.dup('c').reshape(x.length()).castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT)
                .toFloatVector();
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    /** The newest checkpoints of the two job directories hold the same parameters, updater, masks and progress. */
    static void assertSameCheckpoint(Path one, Path other) throws Exception {
        Checkpoints.Restored a = new Checkpoints(one.resolve("checkpoints")).restoreLatest().orElseThrow();
        Checkpoints.Restored b = new Checkpoints(other.resolve("checkpoints")).restoreLatest().orElseThrow();
        Function<Checkpoints.Restored, TrainableModel> model = r -> TrainableModel.of(r.model().model(),
                dev.shears.common.data.InputShape.FASHION_MNIST);
        assertThat(bits(model.apply(b).params())).as("parameters").containsExactly(bits(model.apply(a).params()));
        assertThat(bits(model.apply(b).updaterState())).as("updater state")
                .containsExactly(bits(model.apply(a).updaterState()));
        Map<String, INDArray> pruning = a.model().pruning().stateDict();
        assertThat(b.model().pruning().stateDict().keySet()).containsExactlyElementsOf(pruning.keySet());
        pruning.forEach((name, array) -> assertThat(bits(b.model().pruning().stateDict().get(name))).as(name)
                .containsExactly(bits(array)));
        CheckpointState sa = a.state();
        CheckpointState sb = b.state();
        assertThat(Optional.of(sb).map(s -> new long[]{s.seq(), s.iteration(), s.epoch(), s.batchInEpoch()}))
                .hasValueSatisfying(v -> assertThat(v).containsExactly(sa.seq(), sa.iteration(), sa.epoch(),
                        sa.batchInEpoch()));
        assertThat(sb.accuracy()).isEqualTo(sa.accuracy());
        assertThat(sb.testAccuracy()).isEqualTo(sa.testAccuracy());
    }
}
