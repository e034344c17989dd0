package dev.shears.trainer.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shears.common.recipe.Augmentation;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.Subset;
import dev.shears.trainer.model.Models;
import dev.shears.trainer.train.TrainingPath;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The first layer's gradients without its input gradient: the same weight and bias gradients as DL4J's own
 * back-propagation, on LeNet-5 with real images, and DL4J's path kept where the shortcut does not apply.
 */
class InputLayerGradientsTest {
    static DataSet batch;

    @BeforeAll
    static void oneDnn() {
        assumeTrue(CpuAcceleration.enable().oneDnn(), "oneDNN is not in use on this machine");
        // as the trainer fed LeNet-5 before it took images: flat vectors, standardised with Fashion-MNIST's figures
        batch = Batches.shuffled(Subset.load().trainExamples().flat(), Subset.standard(784), 64, 7,
                Augmentation.NONE).next();
    }

    @Test
    void leNet5sFirstConvolutionGetsTheSameGradientsAsDl4jsOwnPath() {
        MultiLayerNetwork dl4j = Models.lenet5(3, new Nesterovs(0.01, 0.9), 5e-4);
        MultiLayerNetwork shears = dl4j.clone();
        assertThat(InputLayerGradients.skip(shears)).isTrue();
        assertThat(InputLayerGradients.skip(shears)).as("idempotent").isTrue();
        assertThat(InputLayerGradients.skipped(shears)).isTrue();
        assertThat(InputLayerGradients.skipped(dl4j)).isFalse();

        assertSameGradients(dl4j, shears);
        // Trained the same way, the same network up to float rounding (the gradients themselves are not compared
        // again: a ReLU at a kink turns a rounding difference in the parameters into a different gradient entry).
        for (int i = 0; i < 5; i++) {
            dl4j.fit(batch);
            shears.fit(batch);
        }
        assertThat(SameNumbers.maxRelativeDiff(dl4j.params(), shears.params())).isLessThan(1e-6);
    }

    /** With the forward results kept for back-propagation too ({@code TrainingPath}): the same gradients again. */
    @Test
    void theWholeTrainingPathGetsTheSameGradientsAsDl4jsOwn() {
        MultiLayerNetwork dl4j = Models.lenet5(4, new Nesterovs(0.01, 0.9), 5e-4);
        MultiLayerNetwork shears = dl4j.clone();
        TrainingPath.prepare(shears);
        assertThat(shears.getLayerWiseConfigurations().getCacheMode())
                .isEqualTo(org.deeplearning4j.nn.conf.CacheMode.DEVICE);
        for (int i = 0; i < 3; i++) {
            dl4j.fit(batch);
            shears.fit(batch);
            assertThat(SameNumbers.maxRelativeDiff(dl4j.params(), shears.params())).as("after fit %d", i)
                    .isLessThan(1e-6);
        }
        MultiLayerNetwork fresh = Models.lenet5(4, new Nesterovs(0.01, 0.9), 5e-4);
        MultiLayerNetwork prepared = fresh.clone();
        TrainingPath.prepare(prepared);
        prepared.output(batch.getFeatures(), false); // an inference in between keeps nothing stale
        assertSameGradients(fresh, prepared);
    }

    @Test
    void aStridedFirstConvolutionKeepsDl4jsPathAndADenseFirstLayerIsLeftAlone() {
        MultiLayerNetwork strided = network(new ConvolutionLayer.Builder(5, 5).nOut(4).stride(2, 2)
                .activation(Activation.RELU).build());
        MultiLayerNetwork copy = strided.clone();
        assertThat(InputLayerGradients.skip(copy)).isTrue();
        assertSameGradients(strided, copy);

        MultiLayerNetwork dense = network(new DenseLayer.Builder().nOut(16).activation(Activation.RELU).build());
        assertThat(InputLayerGradients.skip(dense)).isFalse();
        assertThat(InputLayerGradients.skipped(dense)).isFalse();
    }

    @Test
    void aNetworkAskedForItsInputGradientAfterwardsGetsNaNNotWrongNumbers() {
        MultiLayerNetwork net = Models.lenet5(3, new Nesterovs(0.01, 0.9), 0);
        InputLayerGradients.skip(net);
        INDArray inputGradient = net.calculateGradients(batch.getFeatures(), batch.getLabels(), null, null).getSecond();
        assertThat(inputGradient.isNaN().all()).isTrue();
    }

    private static void assertSameGradients(MultiLayerNetwork a, MultiLayerNetwork b) {
        SameNumbers.assertSameGradients(a, b, batch);
    }

    /** {@code layers}, then a softmax output layer, on flat 28×28 images. */
    static MultiLayerNetwork network(org.deeplearning4j.nn.conf.layers.Layer... layers) {
        NeuralNetConfiguration.ListBuilder list = new NeuralNetConfiguration.Builder().seed(5)
                .dataType(DataType.FLOAT).updater(new Nesterovs(0.01, 0.9)).weightInit(WeightInit.XAVIER).list();
        for (org.deeplearning4j.nn.conf.layers.Layer layer : layers) {
            list.layer(layer);
        }
        MultiLayerConfiguration conf = list
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }
}
