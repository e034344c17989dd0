package dev.shears.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shears.common.data.InputShape;
import dev.shears.common.recipe.Augmentation;
import dev.shears.trainer.cpu.CachedPreOutputs;
import dev.shears.trainer.cpu.CpuAcceleration;
import dev.shears.trainer.cpu.MaxPooling;
import dev.shears.trainer.cpu.OneDnnConvolution;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.Subset;
import dev.shears.trainer.model.Models;
import dev.shears.trainer.model.TrainableModel;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * Which layers a job's model trains on: a {@link MultiLayerNetwork} on oneDNN convolutions, cached dense products
 * and the one-pass max pooling; a {@link ComputationGraph} on oneDNN convolutions (without biases, as ResNet's and
 * MobileNet's are) and otherwise DL4J's own layers, and both learn what DL4J's path learns.
 */
class TrainingPathTest {
    private static final InputShape IMAGE = InputShape.image(1, 28, 28);
    private static List<DataSet> batches;

    @BeforeAll
    static void data() {
        assumeTrue(CpuAcceleration.enable().oneDnn(), "oneDNN is not in use on this machine");
        // as the trainer fed LeNet-5 before it took images: flat vectors, standardised with Fashion-MNIST's figures
        Batches stream = Batches.shuffled(Subset.load().trainExamples().flat(), Subset.standard(784), 32, 11,
                Augmentation.NONE);
        batches = List.of(stream.next(), stream.next(), stream.next());
    }

    @Test
    void aNetworksConvolutionsDenseLayersAndPoolingRunOnShearsHelpersAndLearnDl4jsNumbers() {
        TrainableModel plain = TrainableModel.of(Models.lenet5(3, new Nesterovs(0.01, 0.9), 5e-4), IMAGE);
        TrainableModel fast = plain.copy();
        fast.prepareTraining();
        fast.prepareTraining(); // idempotent

        Layer[] layers = ((MultiLayerNetwork) fast.model()).getLayers();
        assertThat(Arrays.stream(layers).filter(OneDnnConvolution::installed).count()).as("conv1, conv2").isEqualTo(2);
        assertThat(Arrays.stream(layers).filter(CachedPreOutputs::installed).count()).as("fc1, fc2").isEqualTo(2);
        assertThat(Arrays.stream(layers).filter(MaxPooling::installed).count()).as("pool1, pool2").isEqualTo(2);

        trainBoth(plain, fast);
        assertThat(maxRelativeDiff(plain.params(), fast.params())).isLessThan(1e-5);
    }

    @Test
    void aGraphConvolvesOnCachedPrimitivesAndLearnsDl4jsNumbers() {
        TrainableModel plain = TrainableModel.of(Models.resnet(8, 4, IMAGE, 10, 5, new Adam(0.01), 1e-4), IMAGE);
        TrainableModel fast = plain.copy();
        fast.prepareTraining();

        ComputationGraph graph = (ComputationGraph) fast.model();
        assertThat(graph.getConfiguration().getCacheMode()).isEqualTo(CacheMode.DEVICE);
        long convolutions = Arrays.stream(graph.getLayers())
                .filter(l -> l.getClass() == ConvolutionLayer.class).count();
        assertThat(convolutions).as("ResNet-8: stem, 6 block convolutions, 2 projections").isEqualTo(9);
        assertThat(Arrays.stream(graph.getLayers()).filter(OneDnnConvolution::installed).count())
                .as("every convolution, none with a bias").isEqualTo(convolutions);
        assertThat(graph.getLayers()).as("no dense or pooling layer given Shears' helper")
                .noneMatch(l -> CachedPreOutputs.installed(l) || MaxPooling.installed(l));
        INDArray before = fast.params().dup();

        trainBoth(plain, fast);
        assertThat(fast.params()).isNotEqualTo(before);
        assertThat(maxRelativeDiff(plain.params(), fast.params())).isLessThan(1e-4);
    }

    @Test
    void aMobileNetsPointwiseConvolutionsRunOnCachedPrimitivesAndItLearnsDl4jsNumbers() {
        TrainableModel plain = TrainableModel.of(Models.mobilenetv2(0.25, IMAGE, 10, 5, new Sgd(0.05), 1e-4),
                IMAGE);
        TrainableModel fast = plain.copy();
        fast.prepareTraining();

        Layer[] layers = ((ComputationGraph) fast.model()).getLayers();
        assertThat(Arrays.stream(layers).filter(OneDnnConvolution::installed).count()).as("pointwise and stem")
                .isEqualTo(Arrays.stream(layers).filter(l -> l.getClass() == ConvolutionLayer.class).count())
                .isGreaterThan(10);
        INDArray before = fast.params().dup();

        // A narrow MobileNet amplifies float rounding from step to step (6.7e-6 after one step of SGD, 5e-3 after two),
        // so each step is compared from the same parameters.
        for (int i = 0; i < batches.size(); i++) {
            plain.fit(batches.get(i), 7, i);
            fast.fit(batches.get(i), 7, i);
            assertThat(maxRelativeDiff(plain.params(), fast.params())).as("step %d", i).isLessThan(1e-4);
            fast.params().assign(plain.params());
        }
        assertThat(fast.params()).isNotEqualTo(before);
    }

    private static void trainBoth(TrainableModel plain, TrainableModel fast) {
        for (int i = 0; i < batches.size(); i++) {
            plain.fit(batches.get(i), 7, i);
            fast.fit(batches.get(i), 7, i);
        }
    }

    /** The largest difference relative to the largest magnitude of {@code expected}. */
    private static double maxRelativeDiff(INDArray expected, INDArray actual) {
        return actual.sub(expected).amaxNumber().doubleValue() / expected.amaxNumber().doubleValue();
    }
}
