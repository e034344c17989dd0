package dev.shears.trainer.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.recipe.Augmentation;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.Subset;
import dev.shears.trainer.model.Models;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

/**
 * Max pooling with the winners kept from the forward pass: DL4J's outputs and gradients to the bit, and DL4J's path
 * wherever it does not apply.
 */
class MaxPoolingTest {
    static DataSet batch;

    @BeforeAll
    static void data() {
        CpuAcceleration.enable();
        batch = Batches.shuffled(Subset.load().trainExamples(), Subset.standard(1), 64, 13, Augmentation.NONE).next();
    }

    @Test
    void leNet5TrainsToTheSameParametersToTheBit() {
        MultiLayerNetwork dl4j = Models.lenet5(3, new Nesterovs(0.01, 0.9), 5e-4);
        MultiLayerNetwork shears = dl4j.clone();
        assertThat(MaxPooling.SWAP.install(shears)).as("pool1, pool2").isEqualTo(2);
        assertThat(MaxPooling.SWAP.install(shears)).as("idempotent").isEqualTo(2);
        assertThat(MaxPooling.SWAP.installed(shears.getLayer(1))).isTrue();
        assertThat(MaxPooling.SWAP.installed(dl4j.getLayer(1))).as("the original keeps DL4J's layer").isFalse();

        for (int i = 0; i < 4; i++) {
            dl4j.fit(batch);
            shears.fit(batch);
        }
        assertThat(shears.params().sub(dl4j.params()).amaxNumber().doubleValue()).isZero();
        assertThat(MaxPooling.reuses(shears.getLayer(1))).as("every back-propagation used the kept winners")
                .isEqualTo(4);
        assertThat(MaxPooling.reuses(shears.getLayer(3))).isEqualTo(4);
        assertThat(shears.output(batch.getFeatures(), false)).isEqualTo(dl4j.output(batch.getFeatures(), false));
    }

    /** ReLU outputs tie at zero all the time: the gradient must go where DL4J sends it, the first maximum. */
    @Test
    void aWindowOfTiesSendsItsGradientToItsFirstMaximum() {
        INDArray input = Nd4j.createFromArray(new float[]{
                0, 0, 3, 1, 2, 2,
                0, 0, 3, 3, 2, 2}).reshape(1, 1, 2, 6);
        INDArray epsilon = Nd4j.createFromArray(new float[]{10, 20, 30}).reshape(1, 1, 1, 3);
        INDArray expected = Nd4j.createFromArray(new float[]{
                10, 0, 20, 0, 30, 0,
                0, 0, 0, 0, 0, 0}).reshape(1, 1, 2, 6);

        SubsamplingLayer conf = pooling(2, 2).build();
        assertThat(backward(conf, input, epsilon, true)).isEqualTo(expected);
        assertThat(backward(conf, input, epsilon, false)).as("DL4J's own result").isEqualTo(expected);
    }

    /** libnd4j never lets a NaN win, and a window with nothing above -Float.MAX_VALUE sends it to its first element. */
    @Test
    void nanSignedZerosAndInfinitiesGoWhereDl4jSendsThem() {
        float nan = Float.NaN;
        float inf = Float.POSITIVE_INFINITY;
        float low = -Float.MAX_VALUE;
        INDArray[] both = backwardOfWindows(new float[][]{{nan, 1, 5, 2}, {5, nan, 1, 2}, {nan, nan, nan, nan},
                {nan, 1, 1, 1}, {1, 2, nan, nan}, {-0f, 0f, -0f, 0f}, {0f, -0f, 0f, 0f}, {-inf, -inf, -inf, -inf},
                {-inf, low, low, 3}, {-inf, low, low, -inf}, {inf, inf, 1, 2}, {-1, -3, -1, -2}});
        assertThat(both[0]).isEqualTo(both[1]);
    }

    /**
     * Shears' and DL4J's input gradients for 2×2 windows of stride 2 side by side in a 2-row image (window i at columns
     * 2i and 2i+1), each window's output gradient i + 1.
     */
    private static INDArray[] backwardOfWindows(float[][] windows) {
        float[] values = new float[windows.length * 4];
        for (int i = 0; i < windows.length; i++) {
            for (int k = 0; k < 4; k++) {
                values[(k / 2) * 2 * windows.length + 2 * i + k % 2] = windows[i][k];
            }
        }
        INDArray input = Nd4j.createFromArray(values).reshape(1, 1, 2, 2 * windows.length);
        INDArray epsilon = Nd4j.linspace(DataType.FLOAT, 1.0, 1.0, windows.length).reshape(1, 1, 1, windows.length);
        SubsamplingLayer conf = pooling(2, 2).build();
        assertThat(bits(layer(conf, input, true).activate(input, true, LayerWorkspaceMgr.noWorkspaces())))
                .as("the pooled values, to the bit")
                .containsExactly(
                        bits(layer(conf, input, false).activate(input, true, LayerWorkspaceMgr.noWorkspaces())));
        return new INDArray[]{backward(conf, input, epsilon, true), backward(conf, input, epsilon, false)};
    }

    private static int[] bits(INDArray a) {
        float[] values = a.dup('c').data().asFloat();
        int[] bits = new int[values.length];
        for (int i = 0; i < values.length; i++) {
            bits[i] = Float.floatToRawIntBits(values[i]);
        }
        return bits;
    }

    /**
     * Images with only finite values take the path without branches, which compares by the sign of differences:
     * signed zeros, ties, subnormals and differences that overflow must still go where DL4J sends them.
     */
    @Test
    void finiteEdgeCasesGoWhereDl4jSendsThem() {
        float max = Float.MAX_VALUE;
        float tiny = Float.MIN_VALUE;
        INDArray[] both = backwardOfWindows(new float[][]{{-0f, 0f, -0f, 0f}, {0f, -0f, 0f, 0f}, {-0f, -0f, 0f, -0f},
                {max, -max, -max, max}, {-max, max, max, -max}, {-max, -max, -max, -max}, {max, max, max, max},
                {tiny, 0f, -tiny, tiny}, {0f, tiny, tiny, 2 * tiny}, {-tiny, -0f, 0f, -tiny},
                {1, 1, 1, 1}, {-1, -3, -1, -2}, {2, 1, 3, 3}, {1, 2, 2, 1}, {0.1f, Math.nextUp(0.1f), 0.1f, 0.1f}});
        assertThat(both[0]).isEqualTo(both[1]);
    }

    /**
     * 3×3 windows of stride 3 on 28×28 (the last row and column in no window) with an output gradient in 'f' order, and
     * overlapping 3×3 windows of stride 2 (ResNet's first pooling), whose shared elements sum the gradients of every
     * window they win: DL4J's numbers to the bit, through the kept workspace.
     */
    @Test
    void largerAndOverlappingWindowsAndAnyLayoutOfTheOutputGradientGiveDl4jsNumbers() {
        INDArray input = Nd4j.rand(DataType.FLOAT, 8, 3, 28, 28).subi(0.5);
        INDArray epsilon = Nd4j.rand(DataType.FLOAT, 8, 3, 9, 9).dup('f');
        SubsamplingLayer conf = pooling(3, 3).build();
        assertThat(bits(backward(conf, input, epsilon, true))).containsExactly(bits(backward(conf, input, epsilon,
                false)));

        INDArray ties = Nd4j.rand(DataType.FLOAT, 4, 2, 12, 12).muli(4).castTo(DataType.INT32).castTo(DataType.FLOAT);
        INDArray overlappingEpsilon = Nd4j.rand(DataType.FLOAT, 4, 2, 5, 5);
        SubsamplingLayer overlapping = pooling(3, 2).build();
        org.deeplearning4j.nn.api.Layer shears = layer(overlapping, ties, true);
        LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
        shears.activate(ties, true, none);
        assertThat(bits(shears.backpropGradient(overlappingEpsilon, none).getSecond()))
                .containsExactly(bits(backward(overlapping, ties, overlappingEpsilon, false)));
        assertThat(MaxPooling.reuses(shears)).isEqualTo(1);
    }

    /**
     * 2×2 windows over odd sizes (the last row and column in no window) of an input in 'f' order, forward and back,
     * and a back-propagation after an evaluation pass, which leaves no workspace to use: DL4J's numbers every time.
     */
    @Test
    void oddSizesOtherLayoutsAndAnEvaluationInBetweenGiveDl4jsNumbers() {
        INDArray input = Nd4j.rand(DataType.FLOAT, 5, 3, 9, 7).subi(0.5).dup('f');
        INDArray epsilon = Nd4j.rand(DataType.FLOAT, 5, 3, 4, 3);
        SubsamplingLayer conf = pooling(2, 2).build();
        org.deeplearning4j.nn.api.Layer shears = layer(conf, input, true);
        org.deeplearning4j.nn.api.Layer dl4j = layer(conf, input, false);
        LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
        assertThat(bits(shears.activate(input, true, none))).containsExactly(bits(dl4j.activate(input, true, none)));
        assertThat(bits(shears.backpropGradient(epsilon, none).getSecond()))
                .containsExactly(bits(dl4j.backpropGradient(epsilon, none).getSecond()));
        assertThat(MaxPooling.reuses(shears)).isEqualTo(1);

        shears.activate(input, true, none);
        shears.activate(input, false, none);
        assertThat(bits(shears.backpropGradient(epsilon, none).getSecond()))
                .as("DL4J's path")
                .containsExactly(bits(dl4j.backpropGradient(epsilon, none).getSecond()));
        assertThat(MaxPooling.reuses(shears)).isEqualTo(1);
    }

    /** Padding, Same mode and average pooling keep DL4J's path. */
    @Test
    void whatItDoesNotCoverKeepsDl4jsPath() {
        INDArray input = Nd4j.rand(DataType.FLOAT, 4, 2, 12, 12);
        SubsamplingLayer padded = pooling(2, 2).padding(1, 1).build();
        INDArray paddedEpsilon = Nd4j.rand(DataType.FLOAT, 4, 2, 7, 7);
        assertThat(backward(padded, input, paddedEpsilon, true))
                .isEqualTo(backward(padded, input, paddedEpsilon, false));
        SubsamplingLayer same = pooling(2, 2).convolutionMode(ConvolutionMode.Same).build();
        INDArray sameEpsilon = Nd4j.rand(DataType.FLOAT, 4, 2, 6, 6);
        assertThat(backward(same, input, sameEpsilon, true)).isEqualTo(backward(same, input, sameEpsilon, false));

        MultiLayerNetwork average = InputLayerGradientsTest
                .network(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.AVG)
                        .kernelSize(2, 2).stride(2, 2).build());
        assertThat(MaxPooling.SWAP.install(average)).isZero();
        assertThat(MaxPooling.SWAP.installed(average.getLayer(0))).isFalse();
    }

    private static SubsamplingLayer.Builder pooling(int kernel, int stride) {
        return new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(kernel, kernel)
                .stride(stride, stride);
    }

    private static INDArray backward(SubsamplingLayer conf, INDArray input, INDArray epsilon, boolean shears) {
        org.deeplearning4j.nn.api.Layer layer = layer(conf, input, shears);
        layer.activate(input, true, LayerWorkspaceMgr.noWorkspaces());
        Pair<Gradient, INDArray> result = layer.backpropGradient(epsilon, LayerWorkspaceMgr.noWorkspaces());
        return result.getSecond().dup();
    }

    /** The pooling layer of a one-layer network over {@code input}'s channels, with this helper or DL4J's path. */
    private static org.deeplearning4j.nn.api.Layer layer(SubsamplingLayer conf, INDArray input, boolean shears) {
        MultiLayerConfiguration c = new NeuralNetConfiguration.Builder().dataType(DataType.FLOAT).list()
                .layer(conf.clone())
                .setInputType(InputType.convolutional(input.size(2), input.size(3), input.size(1))).build();
        MultiLayerNetwork net = new MultiLayerNetwork(c);
        net.init();
        if (shears) {
            assertThat(MaxPooling.SWAP.install(net)).isEqualTo(1);
        }
        return net.getLayer(0);
    }
}
