package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** A MobileNet-like block: DL4J's depthwise and separable convolutions, whose weights are laid out unlike PyTorch's. */
class DepthwiseSeparableTest {
    @TempDir
    Path dir;

    /** stem conv 3->8, depthwise x2 (16 channels), separable 16->12, global average pooling, fc 10. */
    private static MultiLayerNetwork mobileBlock() {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(5)
                .convolutionMode(ConvolutionMode.Same)
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).name("stem").nOut(8).activation(Activation.RELU).build())
                .layer(new DepthwiseConvolution2D.Builder(3, 3).name("dw").depthMultiplier(2)
                        .activation(Activation.IDENTITY).build())
                .layer(new SeparableConvolution2D.Builder(3, 3).name("sep").nOut(12).activation(Activation.RELU)
                        .build())
                .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).name("gap").build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("fc").nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(16, 16, 3))
                .build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        net.getLayer("dw").getParam("b").assign(Nd4j.linspace(1, 16, 16).reshape(1, 16));
        return net;
    }

    @Test
    void listsDepthwiseAndSeparableWeightsInPyTorchLayout() {
        Pruning pruning = Pruning.of(mobileBlock());

        assertThat(pruning.prunableWeights()).extracting(PrunableParameter::name)
                .containsExactly("stem.weight", "dw.weight", "sep.depthwise_weight", "sep.pointwise_weight",
                        "fc.weight");
        PrunableParameter dw = pruning.parameter("dw.weight");
        assertThat(dw.kind()).isEqualTo(LayerKind.DEPTHWISE_CONVOLUTION);
        assertThat(dw.shape()).containsExactly(8, 2, 3, 3); // DL4J keeps [kH, kW, nIn, multiplier]
        assertThat(pruning.parameter("sep.pointwise_weight").shape()).containsExactly(12, 16, 1, 1);
    }

    @Test
    void lnStructuredOnDim0OfADepthwiseWeightRemovesInputChannels() {
        MultiLayerNetwork net = mobileBlock();
        Pruning pruning = Pruning.of(net);

        pruning.lnStructured("dw.weight", Amount.count(3), Norm.L2, 0);

        INDArray w = net.getLayer("dw").getParam("W"); // [3, 3, 8, 2]
        assertThat(w.shape()).containsExactly(3, 3, 8, 2);
        int[] removed = IntStream.range(0, 8).filter(c -> TutorialWalkthroughTest.zeros(
                w.get(NDArrayIndex.all(), NDArrayIndex.all(), NDArrayIndex.point(c), NDArrayIndex.all())) == 18)
                .toArray();
        assertThat(removed).hasSize(3);
        assertThat(TutorialWalkthroughTest.zeros(w)).isEqualTo(3 * 18);
        Bits.assertSame(w.permute(2, 3, 0, 1), pruning.weight("dw.weight"), "DL4J's W seen in PyTorch layout");

        INDArray out = net.feedForward(Nd4j.rand(Nd4j.getRandomFactory().getNewRandomInstance(9), 2, 3, 16, 16), false)
                .get(2);
        for (int c : removed) {
            for (int m = 0; m < 2; m++) { // output channel c * multiplier + m sees only its bias
                INDArray channel = out.get(NDArrayIndex.all(), NDArrayIndex.point(2 * c + m), NDArrayIndex.all(),
                        NDArrayIndex.all());
                assertThat(channel.minNumber().doubleValue()).as("channel %d", 2 * c + m).isEqualTo(2 * c + m + 1.0)
                        .isEqualTo(channel.maxNumber().doubleValue());
            }
        }
    }

    @Test
    void aSeparableDepthwiseWeightHasItsInputChannelsOnDim0LikeADepthwiseOne() {
        MultiLayerNetwork net = mobileBlock();
        Pruning pruning = Pruning.of(net);
        assertThat(pruning.parameter("sep.depthwise_weight").shape()).containsExactly(16, 1, 3, 3);

        pruning.lnStructured("sep.depthwise_weight", Amount.count(4), Norm.L2, 0);

        INDArray w = net.getLayer("sep").getParam("W"); // DL4J: [multiplier, nIn, kH, kW]
        assertThat(w.shape()).containsExactly(1, 16, 3, 3);
        assertThat(IntStream.range(0, 16).filter(c -> TutorialWalkthroughTest.zeros(
                w.get(NDArrayIndex.all(), NDArrayIndex.point(c), NDArrayIndex.all(), NDArrayIndex.all())) == 9).count())
                .isEqualTo(4);
        assertThat(TutorialWalkthroughTest.zeros(w)).isEqualTo(4 * 9);
    }

    @Test
    void globalPruningAndSaveRestoreWorkThroughThePermutedViews() throws Exception {
        MultiLayerNetwork net = mobileBlock();
        Pruning pruning = Pruning.of(net);
        List<String> weights = pruning.prunableWeights().stream().map(PrunableParameter::name).toList();

        pruning.globalUnstructured(weights, Amount.fraction(0.4));
        SparsityReport report = pruning.report(weights);
        assertThat(report.total().masked()).isEqualTo(Math.round(0.4 * report.total().size()));
        pruning.lnStructured("dw.weight", Amount.count(1), Norm.L1, 0);
        File file = dir.resolve("mobile.zip").toFile();
        PrunedModel.save(net, pruning, file, false);
        PrunedModel restored = PrunedModel.restore(file, false);

        Bits.assertSame(restored.pruning().stateDict(), pruning.stateDict());
        INDArray x = Nd4j.rand(Nd4j.getRandomFactory().getNewRandomInstance(2), 2, 3, 16, 16);
        Bits.assertSame(restored.network().output(x), net.output(x), "output");
    }
}
