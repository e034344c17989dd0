package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

class ModelLayoutTest {

    private static MultiLayerNetwork network() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(7).list()
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv").nOut(4).build())
                .layer(new DenseLayer.Builder().name("fc").nOut(6).build())
                .layer(new OutputLayer.Builder().name("out").nOut(3).build())
                .setInputType(InputType.convolutionalFlat(8, 8, 1)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    @Test
    void denseWeightsAreShownAsPyTorchOutByInViewsOfTheNetworksMemory() {
        MultiLayerNetwork net = network();
        Pruning pruning = Pruning.of(net);
        assertThat(pruning.parameter("fc.weight").shape()).containsExactly(6, 144);
        assertThat(pruning.parameter("1_W")).isEqualTo(pruning.parameter("fc.weight"));
        assertThat(net.getParam("1_W").shape()).containsExactly(144, 6);
        pruning.weight("fc.weight").putScalar(new long[]{2, 5}, 42f); // PyTorch [out=2, in=5]
        assertThat(net.getParam("1_W").getFloat(5, 2)).isEqualTo(42f); // DL4J [in=5, out=2]
    }

    @Test
    void structuredDimZeroOnADenseLayerRemovesOutputUnitsAndTheModelLayoutMaskLinesUp() {
        MultiLayerNetwork net = network();
        Pruning pruning = Pruning.of(net);
        pruning.lnStructured("fc.weight", Amount.count(2), Norm.L2, 0);
        INDArray w = net.getParam("1_W"); // [nIn, nOut]
        int zeroColumns = 0;
        for (int out = 0; out < 6; out++) {
            INDArray column = w.get(NDArrayIndex.all(), NDArrayIndex.point(out));
            if (column.neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.INT32).sumNumber().intValue() == 0) {
                zeroColumns++;
            }
        }
        assertThat(zeroColumns).isEqualTo(2);

        Map<String, INDArray> masks = pruning.masksInModelLayout();
        INDArray mask = masks.get("1_W");
        assertThat(mask.shape()).containsExactly(144, 6);
        assertThat(mask.ordering()).isEqualTo(w.ordering());
        assertThat(mask.transpose()).isEqualTo(pruning.mask("fc.weight"));
        long version = pruning.version();
        pruning.l1Unstructured("conv.weight", Amount.fraction(0.5));
        assertThat(pruning.version()).isNotEqualTo(version);
        assertThat(pruning.masksInModelLayout()).containsOnlyKeys("0_W", "1_W");
    }

    @Test
    void trainingChangesAreReadBackIntoOrigAndApplyMasksRestoresTheZeros() {
        MultiLayerNetwork net = network();
        Pruning pruning = Pruning.of(net);
        pruning.l1Unstructured("fc.weight", Amount.fraction(0.5));
        INDArray mask = pruning.mask("fc.weight").dup();
        pruning.weight("fc.weight").addi(1f); // as an unmasked optimiser step would
        pruning.applyMasks();
        assertThat(pruning.weight("fc.weight").mul(mask.rsub(1)).sumNumber().doubleValue()).isZero();
        INDArray orig = pruning.orig("fc.weight");
        INDArray kept = mask.mul(orig);
        assertThat(kept).isEqualTo(pruning.weight("fc.weight"));
    }
}
