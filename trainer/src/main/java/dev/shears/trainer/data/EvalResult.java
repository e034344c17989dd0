package dev.shears.trainer.data;

import dev.shears.common.data.Normalization;
import java.util.Arrays;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * How well a classifier does on a split.
 *
 * @param samples  the number of examples evaluated, >= 1
 * @param correct  how many of them the model's most probable class got right, in [0, samples]
 * @param meanLoss the mean cross-entropy {@code -ln p(label)} over the examples, in nats; NaN if
 *                 the model outputs NaN
 */
public record EvalResult(int samples, int correct, double meanLoss) {

    /** The clamp DL4J's MCXENT loss applies to softmax probabilities, kept so the losses agree. */
    private static final double CLIP = 1e-10;

    /** @throws IllegalArgumentException if {@code samples < 1} or {@code correct} is out of [0, samples] */
    public EvalResult {
        if (samples < 1 || correct < 0 || correct > samples) {
            throw new IllegalArgumentException("an evaluation of " + samples + " samples with " + correct
                    + " correct is impossible: samples must be >= 1 and correct in [0, samples]");
        }
    }

    /** The fraction of examples classified correctly, in [0, 1]. */
    public double accuracy() {
        return (double) correct / samples;
    }

    /**
     * Evaluates {@code model} on {@code examples} normalised by {@code normalization} (as
     * {@link Batches#inOrder} stages them), {@code batchSize} at a time, in inference mode (no dropout, no parameter
     * change). The loss is that of the model's output taken as class probabilities (clamped to [1e-10, 1 - 1e-10] as
     * DL4J's MCXENT does), without any regularization term: for a softmax/MCXENT network without weight decay it
     * equals DL4J's score.
     *
     * @param batchSize examples per forward pass, >= 1 (1000 suits LeNet-5 on the CPU)
     * @param model a {@link MultiLayerNetwork} or a {@link ComputationGraph} with one input shaped
     *              as the examples' batches and one output of {@code [batch, classes]} probabilities
     * @throws IllegalArgumentException if the model is of another kind, has several inputs or
     *                                  outputs, or does not output the examples' number of classes
     */
    public static EvalResult evaluate(Model model, Examples examples, Normalization normalization, int batchSize) {
        return evaluate(features -> output(model, features), examples, normalization, batchSize);
    }

    /**
     * As {@link #evaluate(Model, Examples, Normalization, int)}, for any classifier: {@code forward} gives the class
     * probabilities {@code [batch, classes]} of a batch of features in inference mode.
     *
     * @throws IllegalArgumentException if {@code forward} does not output the examples' number of classes
     */
    public static EvalResult evaluate(UnaryOperator<INDArray> forward, Examples examples, Normalization normalization,
            int batchSize) {
        Batches batches = Batches.inOrder(examples, normalization, batchSize);
        int classes = examples.shape().classes();
        int correct = 0;
        double loss = 0;
        for (int b = 0; b < batches.batchesPerEpoch(); b++) {
            DataSet batch = batches.next();
            int rows = batch.numExamples();
            float[] probabilities = probabilities(forward.apply(batch.getFeatures()), rows, classes);
            int from = b * batchSize;
            for (int row = 0; row < rows; row++) {
                int label = examples.label(from + row);
                int offset = row * classes;
                int predicted = 0;
                for (int c = 1; c < classes; c++) {
                    if (probabilities[offset + c] > probabilities[offset + predicted]) {
                        predicted = c;
                    }
                }
                if (predicted == label) {
                    correct++;
                }
                double p = probabilities[offset + label];
                loss -= Math.log(Math.min(Math.max(p, CLIP), 1 - CLIP));
            }
        }
        return new EvalResult(examples.size(), correct, loss / examples.size());
    }

    private static INDArray output(Model model, INDArray features) {
        if (model instanceof MultiLayerNetwork network) {
            return network.output(features, false);
        } else if (model instanceof ComputationGraph graph) {
            if (graph.getNumInputArrays() != 1 || graph.getNumOutputArrays() != 1) {
                throw new IllegalArgumentException("a graph with " + graph.getNumInputArrays() + " inputs and "
                        + graph.getNumOutputArrays() + " outputs cannot be evaluated: it needs exactly one of each");
            }
            return graph.outputSingle(false, features);
        }
        throw new IllegalArgumentException("cannot evaluate a " + model.getClass().getName()
                + ": pass a MultiLayerNetwork or a ComputationGraph");
    }

    private static float[] probabilities(INDArray output, int rows, int classes) {
        if (output.rank() != 2 || output.size(0) != rows || output.size(1) != classes) {
            throw new IllegalArgumentException("the model outputs " + Arrays.toString(output.shape())
                    + " for " + rows + " examples, expected [" + rows + ", " + classes
                    + "]: the data set has " + classes + " classes");
        }
        return output.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }
}
