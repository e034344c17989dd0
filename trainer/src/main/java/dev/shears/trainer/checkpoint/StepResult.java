package dev.shears.trainer.checkpoint;

import dev.shears.trainer.data.Evaluation;
import java.util.Map;

/**
 * The outcome of one schedule step (seq 0 is dense pre-training).
 *
 * @param seq the step
 * @param targetSparsity the absolute target
 * @param achievedSparsity what the masks reached over the pruned parameters
 * @param layerSparsity per pruned parameter
 * @param accuracy validation accuracy after fine-tuning: what the accuracy budget reads
 * @param loss validation loss after fine-tuning
 * @param testAccuracy test accuracy after fine-tuning: reported only
 * @param testLoss test loss after fine-tuning
 * @param iterations training iterations in this step
 * @param seconds wall time of the step
 * @param samplesPerSecond training throughput during the step
 * @param decision what the accuracy budget decided ("ok", "extra fine-tune", "stopped", ...)
 */
public record StepResult(int seq, double targetSparsity, double achievedSparsity, Map<String, Double> layerSparsity,
        double accuracy, double loss, double testAccuracy, double testLoss, long iterations, double seconds,
        double samplesPerSecond, String decision) {

    public StepResult {
        layerSparsity = java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(layerSparsity));
    }

    /** The outcome of a step evaluated as {@code eval} says (validation and test). */
    public StepResult(int seq, double targetSparsity, double achievedSparsity, Map<String, Double> layerSparsity,
            Evaluation eval, long iterations, double seconds, double samplesPerSecond, String decision) {
        this(seq, targetSparsity, achievedSparsity, layerSparsity, eval.accuracy(), eval.meanLoss(),
                eval.testAccuracy(), eval.testLoss(), iterations, seconds, samplesPerSecond, decision);
    }
}
