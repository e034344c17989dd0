package dev.shears.trainer.data;

import java.util.Objects;

/**
 * How a model does on a job's two held-back splits: the validation split, which decides the accuracy
 * budget, and the test split, which is only reported.
 *
 * @param validation the examples held out of the training data
 * @param test       the data set's test examples
 */
public record Evaluation(EvalResult validation, EvalResult test) {

    public Evaluation {
        Objects.requireNonNull(validation, "validation");
        Objects.requireNonNull(test, "test");
    }

    /** The validation accuracy, in [0, 1]: what the accuracy budget reads. */
    public double accuracy() {
        return validation.accuracy();
    }

    /** The validation loss: the mean cross-entropy in nats, NaN if the model outputs NaN. */
    public double meanLoss() {
        return validation.meanLoss();
    }

    /** The test accuracy, in [0, 1]: reported, never decides. */
    public double testAccuracy() {
        return test.accuracy();
    }

    /** The test loss, as {@link #meanLoss()}. */
    public double testLoss() {
        return test.meanLoss();
    }
}
