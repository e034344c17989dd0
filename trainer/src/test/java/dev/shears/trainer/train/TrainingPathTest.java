package dev.shears.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shears.common.data.InputShape;
import dev.shears.common.recipe.Augmentation;
import dev.shears.trainer.cpu.CachedPreOutputs;
import dev.shears.trainer.cpu.CpuAcceleration;
import dev.shears.trainer.cpu.MaxPooling;
import dev.shears.trainer.cpu.OneDnnActivation;
import dev.shears.trainer.cpu.OneDnnBatchNorm;
import dev.shears.trainer.cpu.OneDnnDepthwise;
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
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelperAccess;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * Which layers a job's model trains on: a {@link MultiLayerNetwork} on oneDNN convolutions, cached dense products
 * and the one-pass max pooling, learning what DL4J's path learns; a {@link ComputationGraph} on oneDNN convolutions
 * (without biases, as ResNet's and MobileNet's are) and batch norms and otherwise DL4J's own layers, learning what
 * exact arithmetic learns at least as closely as DL4J's float path.
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
        assertThat(Arrays.stream(layers).filter(MaxPooling.SWAP::installed).count()).as("pool1, pool2").isEqualTo(2);

        trainBoth(plain, fast);
        assertThat(maxRelativeDiff(plain.params(), fast.params())).isLessThan(1e-5);
    }

    /**
     * A graph's batch norms make DL4J's float path a poor yardstick: its batch-norm gradients are up to 2 % off in
     * places (libnd4j's float sums), so both float paths are held to the same graph in double precision, where DL4J
     * runs its own layers without helpers. On ResNet-8, three steps of Adam: Shears' path within 1e-4 of it, DL4J's
     * float path 1e-3 to 5e-3 away.
     */
    @Test
    void aGraphConvolvesAndNormalizesOnCachedPrimitivesAndLearnsTheExactNumbers() {
        TrainableModel plain = TrainableModel.of(Models.resnet(8, 4, IMAGE, 10, 5, new Adam(0.01), 1e-4), IMAGE);
        TrainableModel exact = inDoublePrecision(plain);
        TrainableModel fast = plain.copy();
        fast.prepareTraining();

        ComputationGraph graph = (ComputationGraph) fast.model();
        assertThat(graph.getConfiguration().getCacheMode()).isEqualTo(CacheMode.DEVICE);
        long convolutions = Arrays.stream(graph.getLayers())
                .filter(l -> l.getClass() == ConvolutionLayer.class).count();
        assertThat(convolutions).as("ResNet-8: stem, 6 block convolutions, 2 projections").isEqualTo(9);
        assertThat(Arrays.stream(graph.getLayers()).filter(OneDnnConvolution::installed).count())
                .as("every convolution, none with a bias").isEqualTo(convolutions);
        assertThat(Arrays.stream(graph.getLayers()).filter(OneDnnBatchNorm::installed).count())
                .as("a batch norm after every convolution").isEqualTo(convolutions);
        assertThat(Arrays.stream(graph.getLayers()).filter(OneDnnActivation.SWAP::installed).count())
                .as("the stem's ReLU and two in each of the three blocks").isEqualTo(7);
        assertThat(graph.getLayers()).as("no dense or pooling layer given Shears' helper")
                .noneMatch(l -> CachedPreOutputs.installed(l) || MaxPooling.SWAP.installed(l));
        INDArray before = fast.params().dup();

        for (int i = 0; i < batches.size(); i++) {
            plain.fit(batches.get(i), 7, i);
            fast.fit(batches.get(i), 7, i);
            exact.fit(inDoublePrecision(batches.get(i)), 7, i);
        }
        assertThat(fast.params()).isNotEqualTo(before);
        assertThat(graph.getLayers()).as("no helper exception that DL4J swallowed to run its own path")
                .noneMatch(l -> l instanceof BatchNormalization bn && BatchNormalizationHelperAccess.failures(bn) > 0);
        // Adam moves every parameter by about its learning rate whatever the gradient's size, so float rounding in a
        // near-zero gradient shows in full. The 4-channel layers take oneDNN's nearly exact generic batch norm, the 8-
        // and 16-channel ones its JIT kernels, which sum in float as DL4J's path does: Shears' parameters land 2.2e-3
        // from exact arithmetic's after the five steps, DL4J's float path's 5.3e-3 (1e-5 with the generic kernels
        // everywhere, at half the speed).
        double ours = maxRelativeDiff(exact.params(), fast.params());
        assertThat(ours).as("DL4J's float path: %s", maxRelativeDiff(exact.params(), plain.params()))
                .isLessThan(5e-3).isLessThanOrEqualTo(maxRelativeDiff(exact.params(), plain.params()));
    }

    @Test
    void aMobileNetsConvolutionsRunOnCachedPrimitivesAndItLearnsTheExactNumbers() {
        TrainableModel plain = TrainableModel.of(Models.mobilenetv2(0.25, IMAGE, 10, 5, new Sgd(0.05), 1e-4),
                IMAGE);
        TrainableModel exact = inDoublePrecision(plain);
        TrainableModel fast = plain.copy();
        fast.prepareTraining();

        Layer[] layers = ((ComputationGraph) fast.model()).getLayers();
        assertThat(Arrays.stream(layers).filter(OneDnnConvolution::installed).count()).as("pointwise and stem")
                .isEqualTo(Arrays.stream(layers).filter(l -> l.getClass() == ConvolutionLayer.class).count())
                .isGreaterThan(10);
        assertThat(Arrays.stream(layers).filter(OneDnnBatchNorm::installed).count()).isGreaterThan(10);
        assertThat(Arrays.stream(layers).filter(OneDnnDepthwise.SWAP::installed).count())
                .as("a depthwise convolution in each of the 17 inverted residual blocks").isEqualTo(17);
        assertThat(Arrays.stream(layers).filter(OneDnnActivation.SWAP::installed).count())
                .as("every ReLU6 layer").isEqualTo(Arrays.stream(layers)
                        .filter(l -> l instanceof org.deeplearning4j.nn.layers.ActivationLayer).count())
                .isGreaterThan(30);
        INDArray before = fast.params().dup();

        // A narrow MobileNet amplifies float rounding from step to step, so each step starts from the exact
        // parameters. Its batch norms' channels fill oneDNN's blocks, so they take its JIT kernels, which sum in float
        // as DL4J's path does: Shears' path lands 2.9e-3 to 4.3e-3 from the exact step, DL4J's float path 2.5e-3 to
        // 4.6e-3 (and Shears' 4e-4 to 1.5e-3 with oneDNN's generic batch norm, at half its speed).
        for (int i = 0; i < batches.size(); i++) {
            plain.params().assign(exact.params());
            fast.params().assign(exact.params());
            plain.fit(batches.get(i), 7, i);
            fast.fit(batches.get(i), 7, i);
            exact.fit(inDoublePrecision(batches.get(i)), 7, i);
            double ours = maxRelativeDiff(exact.params(), fast.params());
            assertThat(ours).as("step %d; DL4J's float path: %s", i, maxRelativeDiff(exact.params(), plain.params()))
                    .isLessThan(5e-3).isLessThanOrEqualTo(1.5 * maxRelativeDiff(exact.params(), plain.params()));
        }
        assertThat(fast.params()).isNotEqualTo(before);
    }

    private static TrainableModel inDoublePrecision(TrainableModel model) {
        return TrainableModel.of(((ComputationGraph) model.model()).convertDataType(DataType.DOUBLE), IMAGE);
    }

    private static DataSet inDoublePrecision(DataSet batch) {
        return new DataSet(batch.getFeatures().castTo(DataType.DOUBLE), batch.getLabels().castTo(DataType.DOUBLE));
    }

    private static void trainBoth(TrainableModel plain, TrainableModel fast) {
        for (int i = 0; i < batches.size(); i++) {
            plain.fit(batches.get(i), 7, i);
            fast.fit(batches.get(i), 7, i);
        }
    }

    /** The largest difference relative to the largest magnitude of {@code expected}. */
    private static double maxRelativeDiff(INDArray expected, INDArray actual) {
        INDArray e = expected.castTo(DataType.DOUBLE);
        return actual.castTo(DataType.DOUBLE).sub(e).amaxNumber().doubleValue() / e.amaxNumber().doubleValue();
    }
}
