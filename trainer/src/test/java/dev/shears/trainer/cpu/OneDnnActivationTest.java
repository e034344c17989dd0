package dev.shears.trainer.cpu;

import static dev.shears.trainer.cpu.SameNumbers.assertSameGradients;
import static org.assertj.core.api.Assertions.assertThat;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * ReLU and ReLU6 activation layers on oneDNN's element-wise primitives: DL4J's numbers to the bit (with
 * {@link ReluGradients}' gradients, which define the values at the kinks), in a network and layer by layer, on the
 * kinks themselves, and only for the activations they cover.
 */
class OneDnnActivationTest extends OneDnnBatches {
    /** conv → ReLU layer → conv → ReLU6 layer → dense → ReLU layer (rank 2) → tanh layer → output. */
    private static MultiLayerNetwork network() {
        return InputLayerGradientsTest.network(
                new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.IDENTITY).build(),
                new ActivationLayer.Builder().activation(Activation.RELU).build(),
                new ConvolutionLayer.Builder(3, 3).nOut(6).stride(2, 2).activation(Activation.IDENTITY).build(),
                new ActivationLayer.Builder().activation(Activation.RELU6).build(),
                new DenseLayer.Builder().nOut(12).activation(Activation.IDENTITY).build(),
                new ActivationLayer.Builder().activation(Activation.RELU).build(),
                new ActivationLayer.Builder().activation(Activation.TANH).build());
    }

    @Test
    void reluAndRelu6LayersComputeDl4jsNumbersInANetwork() {
        MultiLayerNetwork dl4j = network();
        ReluGradients.install(dl4j);
        MultiLayerNetwork shears = dl4j.clone();
        ReluGradients.install(shears);

        assertThat(OneDnnActivation.SWAP.install(shears)).as("the two ReLUs and the ReLU6, not the tanh").isEqualTo(3);
        assertThat(OneDnnActivation.SWAP.install(shears)).as("idempotent").isEqualTo(3);
        assertThat(OneDnnActivation.SWAP.installed(shears.getLayer(3))).isTrue();
        assertThat(OneDnnActivation.SWAP.installed(shears.getLayer(6))).as("tanh").isFalse();
        assertThat(OneDnnActivation.SWAP.installed(dl4j.getLayer(1))).as("the original keeps DL4J's").isFalse();

        // in training (DL4J's layer applies an activation in place on its input in inference, so that list would
        // hold the ReLU's output where the convolution's was)
        assertThat(shears.feedForward(batch.getFeatures(), true))
                .isEqualTo(dl4j.feedForward(batch.getFeatures(), true));
        assertThat(shears.output(batch.getFeatures())).isEqualTo(dl4j.output(batch.getFeatures()));
        assertSameGradients(dl4j, shears, batch);
        assertSameGradients(dl4j, shears, otherBatch.sample(17)); // another shape: primitives of its own
        SameNumbers.assertTrainingRepeats(network(), net -> {
            ReluGradients.install(net);
            OneDnnActivation.SWAP.install(net);
        }, batch, otherBatch);
    }

    /**
     * On the kinks and either side of them: the outputs and the input gradients equal the path before, element by
     * element (a zero gradient may be +0.0 here and -0.0 there).
     */
    @Test
    void theKinksAtZeroAndSixPassAndStopTheGradientAsBefore() {
        float[] z = {-7f, -1e-30f, -0f, 0f, 1e-30f, 0.5f, 5.9999995f, 6f, 6.0000005f, 7f, Float.MIN_VALUE, 3f};
        INDArray input = Nd4j.create(z, new long[]{1, 3, 2, 2}, 'c');
        INDArray epsilon = Nd4j.linspace(DataType.FLOAT, -2, 0.5, z.length).reshape(1, 3, 2, 2);
        for (Activation activation : new Activation[]{Activation.RELU, Activation.RELU6}) {
            MultiLayerNetwork before = InputLayerGradientsTest.network(
                    new ActivationLayer.Builder().activation(activation).build());
            ReluGradients.install(before);
            MultiLayerNetwork after = before.clone();
            OneDnnActivation.SWAP.install(after);
            Pair<INDArray, INDArray> expected = pass(before.getLayer(0), input, epsilon);
            Pair<INDArray, INDArray> actual = pass(after.getLayer(0), input, epsilon);
            assertThat(OneDnnActivation.SWAP.installed(after.getLayer(0))).isTrue();
            for (int i = 0; i < z.length; i++) {
                assertThat(actual.getFirst().getFloat(i)).as("%s(%s)", activation, z[i])
                        .isEqualTo(expected.getFirst().getFloat(i));
                assertThat(actual.getSecond().getFloat(i) == expected.getSecond().getFloat(i))
                        .as("%s gradient at %s: %s, before %s", activation, z[i], actual.getSecond().getFloat(i),
                                expected.getSecond().getFloat(i))
                        .isTrue();
            }
        }
    }

    private static Pair<INDArray, INDArray> pass(Layer layer, INDArray input, INDArray epsilon) {
        LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
        layer.setInput(input.dup(), none);
        INDArray output = layer.activate(true, none).dup();
        INDArray gradient = layer.backpropGradient(epsilon.dup(), none).getSecond().dup();
        return new Pair<>(output, gradient);
    }

    @Test
    void aLayerWithDropoutOrAnotherActivationKeepsDl4jsPath() {
        MultiLayerNetwork net = InputLayerGradientsTest.network(
                new ActivationLayer.Builder().activation(Activation.RELU).dropOut(new Dropout(0.5)).build(),
                new ActivationLayer.Builder().activation(Activation.LEAKYRELU).build(),
                new ActivationLayer.Builder().activation(Activation.RELU).build());
        assertThat(OneDnnActivation.SWAP.install(net)).isEqualTo(1);
        assertThat(OneDnnActivation.SWAP.installed(net.getLayer(2))).isTrue();
        assertThat(net.getLayer(0).getClass()).isEqualTo(org.deeplearning4j.nn.layers.ActivationLayer.class);
    }
}
