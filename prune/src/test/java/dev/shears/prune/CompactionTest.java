package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class CompactionTest {

    static MultiLayerNetwork lenet(boolean paddedConv2, boolean batchNorm) {
        NeuralNetConfiguration.ListBuilder b = new NeuralNetConfiguration.Builder().seed(3).dataType(DataType.FLOAT)
                .list()
                .layer(new ConvolutionLayer.Builder(5, 5).name("conv1").nOut(6).padding(2, 2)
                        .activation(Activation.RELU).build());
        if (batchNorm) {
            b.layer(new BatchNormalization.Builder().name("bn1").build());
        }
        b.layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool1").kernelSize(2, 2)
                .stride(2, 2).build())
                .layer(new ConvolutionLayer.Builder(5, 5).name("conv2").nOut(16).activation(Activation.RELU)
                        .convolutionMode(paddedConv2 ? ConvolutionMode.Same : ConvolutionMode.Truncate).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).name("pool2").kernelSize(2, 2)
                        .stride(2, 2).build())
                .layer(new DenseLayer.Builder().name("fc1").nOut(120).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().name("fc2").nOut(84).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("fc3").nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1));
        MultiLayerConfiguration conf = b.build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        // Non-zero biases, so that removed channels output constants that must be folded.
        Nd4j.getRandom().setSeed(9);
        net.paramTable().forEach((k, v) -> {
            if (k.endsWith("_b")) {
                v.assign(Nd4j.rand(DataType.FLOAT, v.shape()).subi(0.3));
            }
        });
        return net;
    }

    private static void pruneHalfTheChannels(MultiLayerNetwork net) {
        Pruning pruning = Pruning.of(net);
        for (String name : List.of("conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight")) {
            pruning.lnStructured(name, Amount.fraction(0.5), Norm.L2, 0);
        }
        pruning.removeAll();
    }

    @Test
    void removesStructurallyPrunedChannelsAndKeepsTheOutputs() {
        MultiLayerNetwork net = lenet(false, false);
        pruneHalfTheChannels(net);
        Compaction.Result result = Compaction.compact(net);

        assertThat(result.keptChannels()).containsOnlyKeys("conv1", "conv2", "fc1", "fc2");
        assertThat(result.keptChannels().get("conv1")).hasSize(3);
        assertThat(result.keptChannels().get("conv2")).hasSize(8);
        assertThat(result.keptChannels().get("fc1")).hasSize(60);
        assertThat(result.keptChannels().get("fc2")).hasSize(42);
        assertThat(result.parametersAfter()).isLessThan(result.parametersBefore() / 3);
        assertSameOutputs(net, result.network());
    }

    @Test
    void keepsChannelsWithNonZeroConstantsBeforeAPaddedConvolution() {
        MultiLayerNetwork net = lenet(true, true);
        pruneHalfTheChannels(net);
        Compaction.Result result = Compaction.compact(net);
        // conv1's removed filters output relu(bias) > 0 where the bias is positive: before the padded
        // conv2 those cannot be folded away, so only the filters with a zero constant may go.
        int removable = 0;
        for (int c = 0; c < 6; c++) {
            boolean dead = net.getParam("0_W").slice(c).amaxNumber().doubleValue() == 0;
            // after batch norm (fresh: gamma 1, beta 0, mean 0, std 1) the constant is relu(bias)
            removable += dead && net.getParam("0_b").getDouble(c) <= 0 ? 1 : 0;
        }
        int conv1Kept = result.keptChannels().containsKey("conv1") ? result.keptChannels().get("conv1").length : 6;
        assertThat(conv1Kept).isEqualTo(6 - removable);
        assertThat(result.keptChannels().get("fc1")).hasSize(60);
        assertSameOutputs(net, result.network());
    }

    @Test
    void keepsOneChannelOfALayerWhoseChannelsAreAllPruned() {
        MultiLayerNetwork net = lenet(false, false);
        Pruning pruning = Pruning.of(net);
        pruning.lnStructured("conv2.weight", Amount.fraction(1.0), Norm.L2, 0);
        pruning.lnStructured("fc1.weight", Amount.fraction(0.5), Norm.L2, 0);
        pruning.removeAll();

        Compaction.Result result = Compaction.compact(net);

        assertThat(result.keptChannels().get("conv2")).containsExactly(0);
        assertThat(result.keptChannels().get("fc1")).hasSize(60);
        assertSameOutputs(net, result.network());
    }

    private static void assertSameOutputs(MultiLayerNetwork a, MultiLayerNetwork b) {
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.rand(DataType.FLOAT, 16, 784);
        INDArray ya = a.output(x);
        INDArray yb = b.output(x);
        assertThat(ya.sub(yb).amaxNumber().doubleValue()).isLessThan(1e-5);
    }
}
