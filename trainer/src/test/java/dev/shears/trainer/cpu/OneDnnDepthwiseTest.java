package dev.shears.trainer.cpu;

import static dev.shears.trainer.cpu.SameNumbers.assertSameActivations;
import static dev.shears.trainer.cpu.SameNumbers.assertSameGradients;
import static dev.shears.trainer.cpu.SameNumbers.maxRelativeDiff;
import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.data.InputShape;
import dev.shears.trainer.model.Models;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

/**
 * Depthwise convolutions on cached oneDNN primitives: DL4J's outputs and gradients for every geometry, in a network
 * and in MobileNetV2's graph, whatever ran in between, and the same numbers on every run.
 */
class OneDnnDepthwiseTest extends OneDnnBatches {
    /** A 3x3 convolution to 4 channels, then {@code depthwise}, then the output layer. */
    private static MultiLayerNetwork network(DepthwiseConvolution2D depthwise) {
        return InputLayerGradientsTest.network(
                new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.RELU).build(), depthwise);
    }

    static List<DepthwiseConvolution2D> geometries() {
        return List.of(
                // MobileNetV2's: stride 2, padding 1, no bias, identity
                new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(1).stride(2, 2).padding(1, 1)
                        .hasBias(false).activation(Activation.IDENTITY).build(),
                new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(2).activation(Activation.TANH).build(),
                new DepthwiseConvolution2D.Builder(4, 4).depthMultiplier(3).stride(3, 3)
                        .convolutionMode(ConvolutionMode.Same).activation(Activation.RELU).build(),
                new DepthwiseConvolution2D.Builder(5, 3).depthMultiplier(2).stride(2, 1).padding(2, 0)
                        .hasBias(false).activation(Activation.RELU).build());
    }

    @ParameterizedTest
    @MethodSource("geometries")
    void everyGeometryComputesDl4jsOutputsAndGradients(DepthwiseConvolution2D layer) {
        MultiLayerNetwork dl4j = network(layer);
        MultiLayerNetwork shears = dl4j.clone();
        INDArray parameters = shears.getLayer(1).params();
        assertThat(OneDnnDepthwise.SWAP.install(shears)).isEqualTo(1);
        assertThat(OneDnnDepthwise.SWAP.install(shears)).as("idempotent").isEqualTo(1);
        assertThat(OneDnnDepthwise.SWAP.installed(shears.getLayer(1))).isTrue();
        assertThat(OneDnnDepthwise.SWAP.installed(dl4j.getLayer(1))).as("the original keeps DL4J's").isFalse();
        assertThat(shears.getLayer(1).params()).as("the same parameters, not a copy").isSameAs(parameters);
        assertSameActivations(dl4j, shears, batch.getFeatures());
        assertSameGradients(dl4j, shears, batch);
    }

    /**
     * libnd4j's oneDNN path refuses a dilated depthwise convolution (oneDNN "could not create a descriptor"); ours
     * runs it and computes what libnd4j's own kernels do with helpers turned off.
     */
    @Test
    void aDilatedDepthwiseConvolutionThatDl4jsOneDnnPathRefusesComputesLibnd4jsNumbers() {
        MultiLayerNetwork dl4j = network(new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(2).dilation(2, 2)
                .padding(2, 2).activation(Activation.IDENTITY).build());
        MultiLayerNetwork shears = dl4j.clone();
        OneDnnDepthwise.SWAP.install(shears);
        boolean helpers = Nd4j.getEnvironment().helpersAllowed();
        Nd4j.getEnvironment().allowHelpers(false);
        try {
            assertSameActivations(dl4j, shears, batch.getFeatures());
            assertSameGradients(dl4j, shears, batch);
        } finally {
            Nd4j.getEnvironment().allowHelpers(helpers);
        }
    }

    /** A batch of another size (an evaluation, the last batch of an epoch) gets primitives of its own. */
    @Test
    void batchesOfOtherSizesInBetweenChangeNothing() {
        MultiLayerNetwork dl4j = network(new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(2).padding(1, 1)
                .activation(Activation.RELU).build());
        MultiLayerNetwork shears = dl4j.clone();
        OneDnnDepthwise.SWAP.install(shears);
        SameNumbers.assertOtherBatchSizesChangeNothing(dl4j, shears, batch, otherBatch,
                b -> assertSameGradients(dl4j, shears, b));
    }

    /** The replacement trains the network's own parameters through its updater: training moves them as DL4J's. */
    @Test
    void trainingUpdatesTheNetworksParametersAsDl4jDoes() {
        MultiLayerNetwork dl4j = network(new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(1).stride(2, 2)
                .padding(1, 1).hasBias(false).activation(Activation.IDENTITY).build());
        MultiLayerNetwork shears = dl4j.clone();
        OneDnnDepthwise.SWAP.install(shears);
        INDArray before = shears.getLayer(1).params().dup();
        for (int i = 0; i < 3; i++) {
            dl4j.fit(batch);
            shears.fit(batch);
        }
        assertThat(shears.getLayer(1).params()).isNotEqualTo(before);
        assertThat(maxRelativeDiff(dl4j.params(), shears.params())).isLessThan(1e-4);
        assertThat(OneDnnDepthwise.SWAP.installed(shears.getLayer(1))).isTrue();
    }

    /** What makes a resumed job compute what an uninterrupted one does: no state beyond the primitives. */
    @Test
    void trainingTwiceFromTheSameStateGivesTheSameParametersToTheBit() {
        SameNumbers.assertTrainingRepeats(network(new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(2)
                .stride(2, 2).activation(Activation.RELU).build()), OneDnnDepthwise.SWAP::install, batch, otherBatch);
    }

    /** Double precision is not oneDNN's: the layer keeps DL4J's path, to the bit. */
    @Test
    void otherDataTypesKeepDl4jsPath() {
        MultiLayerNetwork dl4j = network(new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(2)
                .activation(Activation.TANH).build()).convertDataType(DataType.DOUBLE);
        MultiLayerNetwork shears = dl4j.clone();
        assertThat(OneDnnDepthwise.SWAP.install(shears)).isEqualTo(1);
        DataSet doubles = new DataSet(batch.getFeatures().castTo(DataType.DOUBLE),
                batch.getLabels().castTo(DataType.DOUBLE));
        assertThat(shears.output(doubles.getFeatures())).isEqualTo(dl4j.output(doubles.getFeatures()));
        for (MultiLayerNetwork n : new MultiLayerNetwork[]{dl4j, shears}) {
            n.setInput(doubles.getFeatures());
            n.setLabels(doubles.getLabels());
            n.computeGradientAndScore();
        }
        assertThat(shears.gradient().gradient()).isEqualTo(dl4j.gradient().gradient());
    }

    /**
     * In MobileNetV2's graph every depthwise layer is replaced, in the graph's layer array and in its vertex, and the
     * graph computes DL4J's outputs and gradients and trains through its updater.
     */
    @Test
    void aMobileNetsDepthwiseLayersComputeDl4jsNumbers() {
        ComputationGraph dl4j = Models.mobilenetv2(0.25, InputShape.image(1, 28, 28), 10, 5,
                new Nesterovs(0.01, 0.9), 1e-4);
        ComputationGraph shears = dl4j.clone();
        long depthwise = Arrays.stream(dl4j.getLayers()).filter(l -> l instanceof DepthwiseConvolution2DLayer).count();
        assertThat(depthwise).as("one per inverted residual block").isEqualTo(17);
        assertThat(OneDnnDepthwise.SWAP.install(shears)).isEqualTo((int) depthwise);
        for (Layer l : shears.getLayers()) {
            if (l instanceof DepthwiseConvolution2DLayer) {
                assertThat(OneDnnDepthwise.SWAP.installed(l)).isTrue();
                assertThat(shears.getLayer(l.conf().getLayer().getLayerName())).as("the vertex holds it").isSameAs(l);
            }
        }
        INDArray images = batch.getFeatures().reshape(64, 1, 28, 28);
        DataSet data = new DataSet(images, batch.getLabels());
        Map<String, INDArray> a = dl4j.feedForward(images, false);
        Map<String, INDArray> b = shears.feedForward(images, false);
        for (String k : a.keySet()) {
            assertThat(maxRelativeDiff(a.get(k), b.get(k))).as("activation %s", k).isLessThan(1e-5);
        }
        SameNumbers.assertSameGradients(dl4j, shears, data, 1e-5, 1e-3);
        INDArray before = shears.params().dup();
        Nd4j.getRandom().setSeed(12);
        dl4j.fit(data);
        Nd4j.getRandom().setSeed(12);
        shears.fit(data);
        assertThat(shears.params()).isNotEqualTo(before);
        assertThat(maxRelativeDiff(dl4j.params(), shears.params())).isLessThan(1e-4);
    }
}
