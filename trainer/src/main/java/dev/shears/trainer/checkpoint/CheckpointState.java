package dev.shears.trainer.checkpoint;

import com.fasterxml.jackson.annotation.JsonCreator;
import dev.shears.common.data.Normalization;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Everything about a training job's progress that is not in the model file: where it stands and
 * how it was doing. Written as {@code state.json} beside the model in every checkpoint.
 *
 * @param job the job id
 * @param seq the last schedule step applied (0 = dense pre-training done)
 * @param iteration training iterations done so far
 * @param epoch the data epoch the next batch comes from
 * @param batchInEpoch the index of the next batch in that epoch
 * @param seed the job's seed (data order and ND4J's RNG are derived from it)
 * @param targetSparsity the absolute sparsity this step aimed at
 * @param achievedSparsity the sparsity reached over the pruned parameters
 * @param accuracy validation accuracy after the step, in [0, 1]: what the accuracy budget reads
 * @param loss validation loss after the step
 * @param layerSparsity achieved sparsity per pruned parameter
 * @param denseAccuracy validation accuracy of the dense model (the accuracy budget's reference)
 * @param history every step's result so far, in order
 * @param time when the checkpoint was taken
 * @param attempt the attempt of the command that led here; with {@code seq}, the key
 *     {@code (attempt, seq)} of the last command applied (see {@code common/EVENTS.md}); at least 1
 *     (checkpoints written before attempts existed read as 1)
 * @param stepsUndone when this checkpoint was written by a roll-back: how many completed steps the
 *     roll-back discarded; else 0
 * @param testAccuracy test accuracy after the step, in [0, 1]: reported only
 * @param normalization the normalisation the job's data is fed with (measured once from its training split, or
 *     given): a resume feeds the data exactly so, whatever its data root holds now; null in checkpoints written before
 *     it was recorded
 */
public record CheckpointState(String job, long seq, long iteration, long epoch, long batchInEpoch, long seed,
        double targetSparsity, double achievedSparsity, double accuracy, double loss,
        Map<String, Double> layerSparsity, double denseAccuracy, List<StepResult> history, Instant time,
        int attempt, long stepsUndone, double testAccuracy, Normalization normalization) {

    @JsonCreator
    public CheckpointState {
        layerSparsity = layerSparsity == null ? Map.of()
                : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(layerSparsity));
        history = history == null ? List.of() : List.copyOf(history);
        attempt = Math.max(1, attempt);
        stepsUndone = Math.max(0, stepsUndone);
    }

    /** The state of a step applied under attempt 1 (a job run without a scheduler). */
    public CheckpointState(String job, long seq, long iteration, long epoch, long batchInEpoch, long seed,
            double targetSparsity, double achievedSparsity, double accuracy, double loss,
            Map<String, Double> layerSparsity, double denseAccuracy, List<StepResult> history, Instant time) {
        this(job, seq, iteration, epoch, batchInEpoch, seed, targetSparsity, achievedSparsity, accuracy, loss,
                layerSparsity, denseAccuracy, history, time, 1, 0, accuracy, null);
    }

    /** The same progress recorded under another command key, e.g. after a roll-back to it. */
    public CheckpointState rekeyed(int newAttempt, long newStepsUndone, Instant newTime) {
        return new CheckpointState(job, seq, iteration, epoch, batchInEpoch, seed, targetSparsity, achievedSparsity,
                accuracy, loss, layerSparsity, denseAccuracy, history, newTime, newAttempt, newStepsUndone,
                testAccuracy,
                normalization);
    }
}
