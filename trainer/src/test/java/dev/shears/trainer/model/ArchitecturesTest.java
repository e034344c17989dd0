package dev.shears.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.data.InputShape;
import dev.shears.common.recipe.ModelSource;
import dev.shears.prune.Amount;
import dev.shears.prune.ChannelGroup;
import dev.shears.prune.Compaction;
import dev.shears.prune.DependencyGroups;
import dev.shears.prune.GroupImportance;
import dev.shears.prune.ModelCost;
import dev.shears.prune.Pruning;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

class ArchitecturesTest {
    private static final Nesterovs SGD = new Nesterovs(0.01, 0.9);
    private static final InputShape CIFAR = InputShape.image(3, 32, 32);

    @TempDir
    Path dir;

    /** Parameters as PyTorch counts them: DL4J also counts batch norms' running statistics, PyTorch's buffers. */
    private static long trainable(ComputationGraph graph) {
        long n = graph.numParams();
        for (Layer l : graph.getLayers()) {
            if (l.conf().getLayer() instanceof BatchNormalization) {
                n -= l.getParam("mean").length() + l.getParam("var").length();
            }
        }
        return n;
    }

    private static List<String> layerNames(ComputationGraph graph) {
        return Arrays.stream(graph.getLayers()).map(l -> l.conf().getLayer().getLayerName()).toList();
    }

    @Test
    void resnet20HasTheCifarPapersBlocksAndParameterCount() {
        ComputationGraph net = Models.resnet(20, 16, CIFAR, 10, 1, SGD, 0);

        // conv1 432 + bn 32; stage 1: 3 x (2 x 2304 + 64); stage 2: 4608 + 9216 + 128 + projection 512 + 64,
        // then 2 x (2 x 9216 + 128); stage 3: 18432 + 36864 + 256 + 2048 + 128, then 2 x (2 x 36864 + 256); fc 650
        assertThat(trainable(net)).isEqualTo(272_474);
        assertThat(layerNames(net)).contains("conv1", "bn1", "relu", "layer1.0.conv1", "layer1.2.bn2",
                "layer2.0.downsample.0", "layer2.0.downsample.1", "layer3.2.relu", "avgpool", "fc")
                .doesNotContain("layer1.0.downsample.0", "layer2.1.downsample.0");
        assertThat(net.outputSingle(false, input(2, CIFAR)).shape()).containsExactly(2, 10);
    }

    @Test
    void mobilenetv2HasTorchvisionsParameterCountAndKeepsSmallInputsAtFourByFour() {
        ComputationGraph imagenet = Models.mobilenetv2(1.0, InputShape.image(3, 224, 224), 1000, 1, SGD, 0);
        assertThat(trainable(imagenet)).isEqualTo(3_504_872); // torchvision's mobilenet_v2()

        ComputationGraph small = Models.mobilenetv2(0.25, InputShape.FASHION_MNIST, 10, 1, SGD, 0);
        var types = small.getConfiguration().getLayerActivationTypes(InputType.convolutional(28, 28, 1));
        assertThat(((InputType.InputTypeConvolutional) types.get("features.18.2")).getHeight()).isEqualTo(4);
        assertThat(small.getLayer("features.1.conv.0").conf().getLayer()).isInstanceOf(DepthwiseConvolution2D.class);
        assertThat(small.getLayer("features.2.conv.3").conf().getLayer()).isInstanceOf(DepthwiseConvolution2D.class);
        // the first block of stage 3 strides (28 → 14), so it adds no shortcut; its second block does
        assertThat(small.getConfiguration().getVertices().keySet()).contains("features.5.add")
                .doesNotContain("features.4.add");
        assertThat(small.getParam("features.0.0_W").shape()).containsExactly(8, 1, 3, 3); // 32 x 0.25 = 8
        assertThat(small.outputSingle(false, input(2, InputShape.FASHION_MNIST)).shape()).containsExactly(2, 10);
    }

    @Test
    void vggPoolsWhileTheFeatureMapAllowsAndFlattensIntoOneClassifier() {
        ComputationGraph net = Models.vgg(11, 8, InputShape.FASHION_MNIST, 10, 1, SGD, 0);

        assertThat(layerNames(net)).filteredOn(n -> n.startsWith("conv")).hasSize(8);
        assertThat(layerNames(net)).filteredOn(n -> n.startsWith("pool")).containsExactly("pool1", "pool2", "pool3",
                "pool4");
        assertThat(net.getParam("fc_W").shape()).containsExactly(64, 10); // 28 → 14 → 7 → 3 → 1: 64 channels of 1x1
        assertThat(net.outputSingle(false, input(2, InputShape.FASHION_MNIST)).shape()).containsExactly(2, 10);
    }

    @Test
    void weightsAndBiasesStartUniformInPyTorchsBoundsAndBatchNormsAtIdentity() {
        ComputationGraph net = Models.mobilenetv2(0.5, CIFAR, 10, 3, SGD, 0);

        for (Layer l : net.getLayers()) {
            var conf = l.conf().getLayer();
            if (conf instanceof BatchNormalization) {
                assertThat(l.getParam("gamma").minNumber().doubleValue()).isEqualTo(1);
                assertThat(l.getParam("var").minNumber().doubleValue()).isEqualTo(1);
                assertThat(l.getParam("beta").amaxNumber().doubleValue()).isZero();
            } else if (conf instanceof ConvolutionLayer) {
                INDArray w = l.getParam("W");
                // fan_in: a depthwise kernel's own 3x3, a convolution's in x kh x kw
                long fanIn = conf instanceof DepthwiseConvolution2D ? 9 : w.length() / w.size(0);
                double bound = 1 / Math.sqrt(fanIn);
                assertThat(w.amaxNumber().doubleValue()).as(conf.getLayerName()).isLessThanOrEqualTo(bound)
                        .isGreaterThan(0.8 * bound);
            }
        }
        assertThat(Models.mobilenetv2(0.5, CIFAR, 10, 3, SGD, 0).params()).isEqualTo(net.params());
        assertThat(Models.mobilenetv2(0.5, CIFAR, 10, 4, SGD, 0).params()).isNotEqualTo(net.params());
    }

    @Test
    void everyArchitecturePrunedByGroupsToHalfCompactsToASmallerModelWithTheSameOutputs() {
        InputShape shape = InputShape.image(2, 12, 12);
        List<Model> models = List.of(
                Models.resnet(8, 4, shape, 3, 1, SGD, 0),
                Models.mobilenetv2(0.1, shape, 3, 1, SGD, 0),
                Models.vgg(11, 2, shape, 3, 1, SGD, 0),
                Models.lenet5(shape, 3, 1, SGD, 0));
        for (Model model : models) {
            trainedBatchNorms(model);
            DependencyGroups groups = model instanceof ComputationGraph g ? DependencyGroups.of(g)
                    : DependencyGroups.of((MultiLayerNetwork) model);
            Pruning pruning = model instanceof ComputationGraph g ? Pruning.of(g)
                    : Pruning.of((MultiLayerNetwork) model);
            assertThat(groups.prunable()).isNotEmpty();
            for (ChannelGroup group : groups.prunable()) {
                pruning.groupStructured(group, Amount.fraction(0.5), GroupImportance.L2);
            }
            INDArray x = input(8, shape);
            INDArray masked = output(model, x);
            InputType type = model instanceof ComputationGraph ? InputType.convolutional(12, 12, 2)
                    : InputType.convolutionalFlat(12, 12, 2);

            Compaction.Result result = model instanceof ComputationGraph g ? Compaction.compact(g)
                    : Compaction.compact((MultiLayerNetwork) model);

            String what = model.getClass().getSimpleName() + " " + groups.all().get(0).name();
            assertThat(result.keptChannels()).as(what).hasSize(groups.prunable().size());
            assertThat(result.parametersAfter()).as(what).isLessThan(result.parametersBefore() * 6 / 10);
            assertThat(output(result.model(), x).sub(masked).amaxNumber().doubleValue()).as(what).isLessThan(1e-4);
            assertThat(ModelCost.of(result.model(), type).flops()).as(what)
                    .isEqualTo(ModelCost.nonZero(model, type).flops());
        }
    }

    @Test
    void aGraphWithPyTorchStyleNamesSurvivesDl4jsSerialization() throws IOException {
        ComputationGraph net = Models.resnet(8, 4, CIFAR, 10, 1, SGD, 0);
        Path file = dir.resolve("resnet.zip");
        ModelSerializer.writeModel(net, file.toFile(), true);

        Model loaded = Models.load(file);

        assertThat(loaded.params()).isEqualTo(net.params());
        INDArray x = input(2, CIFAR);
        assertThat(((ComputationGraph) loaded).outputSingle(false, x)).isEqualTo(net.outputSingle(false, x));
    }

    @Test
    void createShapesEachArchitectureByTheDataAndRefusesLeNet5OnTooSmallImages() {
        InputShape tiny = InputShape.image(1, 8, 8);
        Model vgg = Models.create(ModelSource.vgg(13, 4), tiny, 5, 1, SGD, 0);
        assertThat(((ComputationGraph) vgg).getParam("fc_W").shape()).containsExactly(32, 5);
        assertThat(Models.create(ModelSource.LENET300100, tiny, 5, 1, SGD, 0).numParams())
                .isEqualTo(64 * 300 + 300 + 300 * 100 + 100 + 100 * 5 + 5);

        assertThatThrownBy(() -> Models.create(ModelSource.LENET5, tiny, 5, 1, SGD, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model lenet5 needs examples of at least 12x12 pixels")
                .hasMessageContaining("the data's 1x8x8");
        assertThatThrownBy(() -> Models.resnet(21, 16, CIFAR, 10, 1, SGD, 0))
                .hasMessageContaining("model.depth 21 is not a ResNet depth: must be 6n+2");
    }

    /** Batch norms as after training: scales, shifts and statistics of every size, so none is trivial. */
    private static void trainedBatchNorms(Model model) {
        org.nd4j.linalg.api.rng.Random rng = Nd4j.getRandomFactory().getNewRandomInstance(5);
        Layer[] layers = model instanceof ComputationGraph g ? g.getLayers() : ((MultiLayerNetwork) model).getLayers();
        for (Layer l : layers) {
            if (l.conf().getLayer() instanceof BatchNormalization) {
                for (String key : List.of("gamma", "beta", "mean")) {
                    INDArray p = l.getParam(key);
                    p.assign(Nd4j.rand(rng, p.shape()).castTo(p.dataType()).subi(0.5));
                }
                INDArray var = l.getParam("var");
                var.assign(Nd4j.rand(rng, var.shape()).castTo(var.dataType()).addi(0.5));
            }
        }
    }

    private static INDArray input(int n, InputShape s) {
        return Nd4j.rand(Nd4j.getRandomFactory().getNewRandomInstance(9), n, s.channels(), s.height(), s.width())
                .castTo(DataType.FLOAT);
    }

    private static INDArray output(Model model, INDArray x) {
        return model instanceof ComputationGraph g ? g.outputSingle(false, x)
                : ((MultiLayerNetwork) model).output(x.reshape(x.size(0), x.length() / x.size(0)), false);
    }
}
