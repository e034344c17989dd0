package dev.shears.trainer.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static dev.shears.trainer.cpu.SameNumbers.assertSameActivations;
import static dev.shears.trainer.cpu.SameNumbers.assertSameGradients;

import dev.shears.trainer.model.Models;
import java.util.List;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.Nesterovs;

/**
 * Convolutions on cached oneDNN primitives: DL4J's outputs and gradients for every shape and mode, whatever ran in
 * between, and the same numbers on every run.
 */
class OneDnnConvolutionTest extends OneDnnBatches {
    @Test
    void leNet5sConvolutionsComputeDl4jsOutputsAndGradients() {
        MultiLayerNetwork dl4j = Models.lenet5(3, new Nesterovs(0.01, 0.9), 5e-4);
        MultiLayerNetwork shears = dl4j.clone();
        assertThat(OneDnnConvolution.install(shears)).as("conv1, conv2").isEqualTo(2);
        assertThat(OneDnnConvolution.install(shears)).as("idempotent").isEqualTo(2);
        assertThat(OneDnnConvolution.installed(shears.getLayer(2))).isTrue();
        assertThat(OneDnnConvolution.installed(dl4j.getLayer(2))).as("the original keeps its helper").isFalse();

        assertSameActivations(dl4j, shears, batch.getFeatures());
        assertSameGradients(dl4j, shears, batch);
    }

    /** A batch of another size (an evaluation, the last batch of an epoch) gets primitives of its own. */
    @Test
    void batchesOfOtherSizesInBetweenChangeNothing() {
        MultiLayerNetwork dl4j = Models.lenet5(5, new Nesterovs(0.01, 0.9), 0);
        MultiLayerNetwork shears = dl4j.clone();
        OneDnnConvolution.install(shears);
        SameNumbers.assertOtherBatchSizesChangeNothing(dl4j, shears, batch, otherBatch,
                b -> assertSameGradients(dl4j, shears, b));
    }

    @Test
    void stridedDilatedAndSameModeConvolutionsComputeDl4jsGradients() {
        List<ConvolutionLayer> layers = List.of(
                new ConvolutionLayer.Builder(5, 5).nOut(4).stride(2, 2).activation(Activation.RELU).build(),
                new ConvolutionLayer.Builder(3, 3).nOut(4).dilation(2, 2).padding(1, 1)
                        .activation(Activation.TANH).build(),
                new ConvolutionLayer.Builder(4, 4).nOut(3).stride(3, 3).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.IDENTITY).build(),
                new ConvolutionLayer.Builder(3, 2).nOut(5).stride(2, 1).padding(2, 0)
                        .activation(Activation.RELU).build());
        for (ConvolutionLayer layer : layers) {
            MultiLayerNetwork dl4j = InputLayerGradientsTest.network(
                    new ConvolutionLayer.Builder(3, 3).nOut(3).activation(Activation.RELU).build(), layer);
            MultiLayerNetwork shears = dl4j.clone();
            assertThat(OneDnnConvolution.install(shears)).isEqualTo(2);
            assertSameActivations(dl4j, shears, batch.getFeatures());
            assertSameGradients(dl4j, shears, batch);
        }
    }

    /** What makes a resumed job compute what an uninterrupted one does: no state beyond the primitives. */
    @Test
    void trainingTwiceFromTheSameStateGivesTheSameParametersToTheBit() {
        SameNumbers.assertTrainingRepeats(Models.lenet5(9, new Nesterovs(0.01, 0.9), 5e-4), OneDnnConvolution::install,
                batch, otherBatch);
    }

    @Test
    void theFirstLayerSkipsItsInputGradientAndSaysSoWithNaN() {
        MultiLayerNetwork dl4j = Models.lenet5(3, new Nesterovs(0.01, 0.9), 0);
        MultiLayerNetwork shears = dl4j.clone();
        OneDnnConvolution.install(shears);
        assertThat(InputLayerGradients.skip(shears)).isTrue();
        assertThat(InputLayerGradients.skipped(shears)).isTrue();
        assertThat(OneDnnConvolution.skipsInputGradient(shears.getLayer(0))).isTrue();
        assertThat(OneDnnConvolution.skipsInputGradient(shears.getLayer(2))).as("only the first").isFalse();

        assertSameGradients(dl4j, shears, batch);
        INDArray inputGradient = shears.calculateGradients(batch.getFeatures(), batch.getLabels(), null, null)
                .getSecond();
        assertThat(inputGradient.isNaN().all()).isTrue();
    }

    /** Parameters, their gradients and activations are bound as they are, without a copy, however ND4J marks them. */
    @Test
    void rowMajorArraysAreRecognisedWhateverTheStridesOfTheirUnitDimensions() {
        INDArray flat = org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 1, 200);
        INDArray bias = flat.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(0, 6));
        INDArray weights = flat.get(NDArrayIndex.interval(0, 1), NDArrayIndex.interval(6, 156)).reshape('c', 6, 1, 5,
                5);
        assertThat(bias.ordering()).as("ND4J's mark on a row view").isEqualTo('f');
        assertThat(OneDnn.rowMajor(bias)).isTrue();
        assertThat(OneDnn.rowMajor(weights)).isTrue();
        assertThat(OneDnn.rowMajor(
                org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 64, 1, 28, 28)))
                .isTrue();

        INDArray images = org.nd4j.linalg.factory.Nd4j.create(org.nd4j.linalg.api.buffer.DataType.FLOAT, 4, 3, 5, 5);
        assertThat(OneDnn.rowMajor(images.permute(0, 2, 3, 1))).isFalse();
        assertThat(OneDnn.rowMajor(images.get(NDArrayIndex.all(), NDArrayIndex.interval(0, 2))))
                .as("two of three channels").isFalse();
        assertThat(OneDnn.rowMajor(images.get(NDArrayIndex.interval(1, 3)))).as("two whole images")
                .isTrue();
    }
}
