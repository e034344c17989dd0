package dev.shears.trainer.checkpoint;

import java.util.Map;

/**
 * The outcome of one schedule step (seq 0 is dense pre-training).
 *
 * @param seq the step
 * @param targetSparsity the absolute target
 * @param achievedSparsity what the masks reached over the pruned parameters
 * @param layerSparsity per pruned parameter
 * @param accuracy test accuracy after fine-tuning
 * @param loss test loss after fine-tuning
 * @param iterations training iterations in this step
 * @param seconds wall time of the step
 * @param samplesPerSecond training throughput during the step
 * @param decision what the accuracy budget decided ("ok", "extra fine-tune", "stopped", ...)
 */
public record StepResult(int seq, double targetSparsity, double achievedSparsity, Map<String, Double> layerSparsity,
        double accuracy, double loss, long iterations, double seconds, double samplesPerSecond, String decision) {

    public StepResult {
        layerSparsity = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(layerSparsity));
    }
}
