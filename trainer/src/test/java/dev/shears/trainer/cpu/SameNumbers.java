package dev.shears.trainer.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.function.Consumer;
import org.assertj.core.data.Offset;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
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

    /** The same score and every parameter's gradient within 1e-5 of its largest entry. */
    static void assertSameGradients(MultiLayerNetwork expected, MultiLayerNetwork actual, DataSet data) {
        for (MultiLayerNetwork n : new MultiLayerNetwork[]{expected, actual}) {
            n.setInput(data.getFeatures());
            n.setLabels(data.getLabels());
            n.computeGradientAndScore();
        }
        assertThat(actual.score()).isCloseTo(expected.score(), Offset.offset(1e-6));
        Map<String, INDArray> a = expected.gradient().gradientForVariable();
        Map<String, INDArray> b = actual.gradient().gradientForVariable();
        assertThat(b.keySet()).isEqualTo(a.keySet());
        for (String k : a.keySet()) {
            assertThat(maxRelativeDiff(a.get(k), b.get(k))).as("gradient %s", k).isLessThan(1e-5);
        }
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
