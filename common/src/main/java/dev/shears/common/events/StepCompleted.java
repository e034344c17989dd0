package dev.shears.common.events;

import dev.shears.common.text.Quoted;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The outcome of one command that trains: {@link JobStarted} (seq 0, dense) or a
 * {@link PruneStep}. Sent with the command's seq once the step's checkpoint is durable. The
 * scheduler accepts the one report that matches the {@code (seq, attempt)} it waits for and
 * ignores the others (duplicates, superseded attempts).
 *
 * @param seq the seq of the command answered, at least 0
 * @param attempt the attempt of the command answered, at least 1 (1 for seq 0)
 * @param targetSparsity the absolute target asked for, in [0, 1) (0 for seq 0)
 * @param achievedSparsity the fraction of the selected weights pruned after the step, in [0, 1]
 * @param layerSparsity sparsity in [0, 1] per pruned parameter, in model order; names are not
 *     blank, at most 256 characters, without control characters
 * @param accuracy accuracy on the validation split (held out of the training data) after fine-tuning, in [0, 1]:
 *     what the accuracy budget reads
 * @param testAccuracy accuracy on the test split after fine-tuning, in [0, 1]: reported only, never decides
 * @param loss validation loss after fine-tuning, finite, at least 0
 * @param checkpointId the checkpoint written for this seq
 * @param worker the worker that ran the step
 * @param redelivered true when the command was already applied and this report acknowledges it
 *     again (from the checkpoint) without training
 */
public record StepCompleted(long seq, int attempt, double targetSparsity, double achievedSparsity,
        Map<String, Double> layerSparsity, double accuracy, double testAccuracy, double loss, String checkpointId,
        String worker, boolean redelivered) implements Report {

    /** @throws IllegalArgumentException when a field is out of range */
    public StepCompleted {
        Check c = new Check("StepCompleted");
        c.range("seq", seq, 0, Long.MAX_VALUE, "the seq of the command this report answers");
        c.range("attempt", attempt, 1, Limits.MAX_ATTEMPT, "the attempt of the command this report answers");
        c.range("targetSparsity", targetSparsity, 0, 1, false, "the target of the command this report answers");
        c.range("achievedSparsity", achievedSparsity, 0, 1, true, "a fraction of the selected weights");
        layerSparsity = layers(c, "layerSparsity", layerSparsity);
        c.range("accuracy", accuracy, 0, 1, true, "a fraction of the validation split, e.g. 0.89, not a percentage");
        c.range("testAccuracy", testAccuracy, 0, 1, true, "a fraction of the test split, e.g. 0.89, not a percentage");
        c.nonNegative("loss", loss, "a diverged step (NaN or infinite loss) is reported as JobFailed");
        c.token("checkpointId", checkpointId, "ckpt-000003-0000001500");
        c.token("worker", worker, "trainer-0");
    }

    /** A read-only copy in the given order, every name and value checked. */
    static Map<String, Double> layers(Check c, String field, Map<String, Double> layers) {
        c.present(field, layers);
        Map<String, Double> copy = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : layers.entrySet()) {
            String name = e.getKey();
            if (name == null) {
                throw c.fail(field, "(a null name)", "has a parameter without a name");
            }
            String at = field + "[" + Quoted.of(name) + "]";
            if (name.isBlank() || name.length() > Limits.PARAMETER || name.chars().anyMatch(Check::isControl)
                    || Check.loneSurrogate(name) >= 0) {
                throw c.fail(field, name, "has an invalid parameter name: must not be blank, at most "
                        + Limits.PARAMETER
                        + " characters of Unicode text without control characters (fix: use the model's"
                        + " parameter names, e.g. 0_W)");
            }
            c.present(at, e.getValue());
            c.range(at, e.getValue(), 0, 1, true, "a fraction of the parameter's weights");
            copy.put(name, e.getValue());
        }
        return Collections.unmodifiableMap(copy);
    }
}
