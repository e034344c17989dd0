package dev.shears.trainer.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

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

    /** max |a - b| / max |a|. */
    static double maxRelativeDiff(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue() / Math.max(1e-12, a.amaxNumber().doubleValue());
    }
}
