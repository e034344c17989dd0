package dev.shears.trainer.checkpoint;

import java.time.Instant;
import dev.shears.trainer.job.StepResult;
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
 * @param accuracy test accuracy after the step, in [0, 1]
 * @param loss test loss after the step
 * @param layerSparsity achieved sparsity per pruned parameter
 * @param denseAccuracy test accuracy of the dense model (the accuracy budget's reference)
 * @param history every step's result so far, in order
 * @param time when the checkpoint was taken
 */
public record CheckpointState(String job, long seq, long iteration, long epoch, long batchInEpoch, long seed,
        double targetSparsity, double achievedSparsity, double accuracy, double loss,
        Map<String, Double> layerSparsity, double denseAccuracy, List<StepResult> history, Instant time) {

    public CheckpointState {
        layerSparsity = layerSparsity == null ? Map.of()
                : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(layerSparsity));
        history = history == null ? List.of() : List.copyOf(history);
    }
}
