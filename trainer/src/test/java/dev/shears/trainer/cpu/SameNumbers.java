package dev.shears.trainer.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shears.common.recipe.Augmentation;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.Subset;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.assertj.core.data.Offset;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/** Assertions that two networks compute the same numbers up to float rounding. */
final class SameNumbers {
    private SameNumbers() {}

    /** Every layer's activations (inference) within 1e-6 of the largest value. */
    static void assertSameActivations(MultiLayerNetwork expected, MultiLayerNetwork actual, INDArray features) {
        List<INDArray> a = expected.feedForward(features, false);
        List<INDArray> b = actual.feedForward(features, false);
        for (int i = 0; i < a.size(); i++) {
            assertThat(maxRelativeDiff(a.get(i), b.get(i))).as("activation %d", i).isLessThan(1e-6);
        }
    }

    /**
     * The batches the helpers' tests compare on, once oneDNN is known to serve this machine (else the test is
     * skipped): the first two shuffled batches of 64 Fashion-MNIST images (seed 7), flat vectors standardised with
     * Fashion-MNIST's figures, as the trainer fed LeNet-5 before it took images.
     */
    static List<DataSet> oneDnnBatches() {
        assumeTrue(CpuAcceleration.enable().oneDnn(), "oneDNN is not in use on this machine");
        assumeTrue(OneDnn.available(), "oneDNN's presets do not load on this machine");
        Batches batches = Batches.shuffled(Subset.load().trainExamples().flat(), Subset.standard(784), 64, 7,
                Augmentation.NONE);
        return List.of(batches.next(), batches.next());
    }

    /** The same score and every parameter's gradient within 1e-5 of its largest entry. */
    static void assertSameGradients(MultiLayerNetwork expected, MultiLayerNetwork actual, DataSet data) {
        for (MultiLayerNetwork n : new MultiLayerNetwork[]{expected, actual}) {
            n.setInput(data.getFeatures());
            n.setLabels(data.getLabels());
            n.computeGradientAndScore();
        }
        assertSameGradients(expected.score(), expected.gradient().gradientForVariable(), actual.score(),
                actual.gradient().gradientForVariable(), 1e-6, 1e-5);
    }

    /**
     * As {@link #assertSameGradients(MultiLayerNetwork, MultiLayerNetwork, DataSet)} for single-input graphs, with the
     * same random numbers for both (dropout), the score within {@code scoreTolerance} and the gradients within
     * {@code tolerance} of their largest entry.
     */
    static void assertSameGradients(ComputationGraph expected, ComputationGraph actual, DataSet data,
            double scoreTolerance, double tolerance) {
        for (ComputationGraph g : new ComputationGraph[]{expected, actual}) {
            Nd4j.getRandom().setSeed(11);
            g.setInputs(data.getFeatures());
            g.setLabels(data.getLabels());
            g.computeGradientAndScore();
        }
        assertSameGradients(expected.score(), expected.gradient().gradientForVariable(), actual.score(),
                actual.gradient().gradientForVariable(), scoreTolerance, tolerance);
    }

    private static void assertSameGradients(double expectedScore, Map<String, INDArray> expected, double actualScore,
            Map<String, INDArray> actual, double scoreTolerance, double tolerance) {
        assertThat(actualScore).isCloseTo(expectedScore, Offset.offset(scoreTolerance));
        assertThat(actual.keySet()).isEqualTo(expected.keySet());
        for (String k : expected.keySet()) {
            assertThat(maxRelativeDiff(expected.get(k), actual.get(k))).as("gradient %s", k).isLessThan(tolerance);
        }
    }

    /**
     * A batch of another size (an evaluation, the last batch of an epoch) gets primitives of its own and changes
     * nothing: the activations and {@code sameGradients} on the batch, half of it, the other batch and the batch
     * again, then the activations of a single example.
     */
    static void assertOtherBatchSizesChangeNothing(MultiLayerNetwork expected, MultiLayerNetwork actual,
            DataSet batch, DataSet otherBatch, Consumer<DataSet> sameGradients) {
        for (DataSet b : List.of(batch, batch.sample(32), otherBatch, batch)) {
            assertSameActivations(expected, actual, b.getFeatures());
            sameGradients.accept(b);
        }
        assertSameActivations(expected, actual, batch.getFeatures().getRow(0, true));
    }

    /**
     * What makes a resumed job compute what an uninterrupted one does: two copies of {@code start}, each given
     * {@code prepare}, trained on the same batches (one with inference passes in between) end with the same
     * parameters and updater state to the bit.
     */
    static void assertTrainingRepeats(MultiLayerNetwork start, Consumer<MultiLayerNetwork> prepare, DataSet batch,
            DataSet otherBatch) {
        MultiLayerNetwork a = start.clone();
        prepare.accept(a);
        MultiLayerNetwork b = start.clone();
        prepare.accept(b);
        for (int i = 0; i < 3; i++) {
            a.fit(batch);
            a.output(otherBatch.getFeatures().get(NDArrayIndex.interval(0, 10)), false);
            a.fit(otherBatch);
        }
        for (int i = 0; i < 3; i++) {
            b.fit(batch);
            b.fit(otherBatch);
        }
        assertThat(a.params()).isEqualTo(b.params());
        assertThat(a.getUpdater().getStateViewArray()).isEqualTo(b.getUpdater().getStateViewArray());
    }

    /** max |a - b| / max |a|. */
    static double maxRelativeDiff(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue() / Math.max(1e-12, a.amaxNumber().doubleValue());
    }
}
