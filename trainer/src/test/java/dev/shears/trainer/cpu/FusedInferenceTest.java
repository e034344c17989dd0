package dev.shears.trainer.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shears.common.data.InputShape;
import dev.shears.common.process.SerialFilter;
import dev.shears.prune.Amount;
import dev.shears.prune.ChannelGroup;
import dev.shears.prune.ChannelLimits;
import dev.shears.prune.GroupImportance;
import dev.shears.prune.Pruning;
import dev.shears.trainer.model.Models;
import dev.shears.trainer.model.TrainableModel;
import java.nio.file.Files;
import java.nio.file.Path;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.LSTM;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.RnnOutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Networks compiled for inference compute DL4J's outputs, for every built-in architecture and batch size. */
class FusedInferenceTest {
    private static final InputShape SHAPE = InputShape.FASHION_MNIST;
    private static final double TOLERANCE = 1e-5;

    @BeforeAll
    static void oneDnn() {
        assumeTrue(FusedInference.available(), "oneDNN's presets do not load on this machine");
    }

    @Test
    void aResNetsBatchNormsAreFoldedAndItsResidualAddsAndActivationsFused() {
        ComputationGraph resnet = trainedLooking(Models.resnet(8, 8, SHAPE, 10, 1, new Nesterovs(0.01, 0.9), 0));
        FusedInference fused = FusedInference.compile(resnet);

        // stem, 3 blocks of 2 convolutions, 2 projection shortcuts, the classifier and its softmax
        assertThat(fused.summary()).startsWith("12 steps from ").contains("9 convolutions",
                "9 batch norms folded", "3 residual adds and 7 activations fused");
        assertSameOutputs(resnet, fused, 1, 5, 1, 64);
        // the block's input, its first convolution's output, the second adding into the first: no buffer per value
        assertThat(fused.buffers(64, 1, 28, 28)).isLessThanOrEqualTo(4);
    }

    @Test
    void aMobileNetV2sDepthwiseConvolutionsAndRelu6AreFused() {
        ComputationGraph mobilenet = trainedLooking(Models.mobilenetv2(0.25, SHAPE, 10, 2, new Nesterovs(0.01, 0.9),
                0));
        FusedInference fused = FusedInference.compile(mobilenet);

        assertThat(fused.summary()).contains("batch norms folded", "residual adds").doesNotContain(" 0 residual");
        assertSameOutputs(mobilenet, fused, 1, 3);
    }

    @Test
    void aVggIsFlattenedChannelMajorBeforeItsClassifier() {
        ComputationGraph vgg = trainedLooking(Models.vgg(11, 4, SHAPE, 10, 3, new Nesterovs(0.01, 0.9), 0));
        assertSameOutputs(vgg, FusedInference.compile(vgg), 2);
    }

    @Test
    void leNet5ReadsFlatRowsOrImages() {
        MultiLayerNetwork lenet = Models.lenet5(4, new Nesterovs(0.01, 0.9), 0);
        FusedInference fused = FusedInference.compile(lenet);
        INDArray rows = Nd4j.rand(DataType.FLOAT, 3, 784);

        assertThat(maxDifference(fused.output(rows), lenet.output(rows))).isLessThan(TOLERANCE);
        assertThat(maxDifference(fused.output(rows.reshape(3, 1, 28, 28)), lenet.output(rows))).isLessThan(TOLERANCE);
    }

    @Test
    void aCompactedResNetComputesWhatTheMaskedOneDoes() {
        TrainableModel full = TrainableModel.of(trainedLooking(Models.resnet(8, 8, SHAPE, 10, 5,
                new Nesterovs(0.01, 0.9), 0)), SHAPE);
        Pruning pruning = full.newPruning();
        for (ChannelGroup g : full.dependencyGroups().prunable()) {
            pruning.groupStructured(g, Amount.fraction(0.5), GroupImportance.L2, ChannelLimits.KEEP_ONE);
        }
        pruning.removeAll();
        ComputationGraph small = (ComputationGraph) full.compact().model();
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, 1, 28, 28);

        assertThat(maxDifference(FusedInference.compile(small).output(x), full.output(x))).isLessThan(TOLERANCE);
    }

    @Test
    void sameModeStridedAndDilatedWindowsPaddedAveragesAndALoneBatchNormComputeDl4jsOutputs() {
        CpuAcceleration.enable(); // DL4J on its oneDNN helpers, as a job runs it
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(7).list()
                .layer(new BatchNormalization.Builder().build()) // before any convolution: a scale and shift alone
                .layer(new ConvolutionLayer.Builder(4, 4).nOut(5).stride(3, 3).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.LEAKYRELU).build())
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(6).dilation(2, 2).padding(1, 1)
                        .activation(Activation.SIGMOID).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.AVG).kernelSize(3, 3).stride(2, 2)
                        .padding(1, 1).build())
                .layer(new DenseLayer.Builder().nOut(7).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(23, 19, 2)).build());
        net.init();
        randomiseBatchNorms(net.getLayers());
        FusedInference fused = FusedInference.compile(net);
        INDArray x = Nd4j.rand(DataType.FLOAT, 3, 2, 23, 19);

        assertThat(maxDifference(fused.output(x), net.output(x))).isLessThan(TOLERANCE);
    }

    @Test
    void anAddOfTwoActivatedConvolutionsRunsAsOneAdditionWithItsActivationFused() {
        ComputationGraph graph = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(8).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(9, 9, 3))
                .addLayer("a", new ConvolutionLayer.Builder(3, 3).nOut(4).padding(1, 1).activation(Activation.RELU)
                        .build(), "in")
                .addLayer("b", new ConvolutionLayer.Builder(1, 1).nOut(4).activation(Activation.TANH).build(), "in")
                .addVertex("sum", new ElementWiseVertex(ElementWiseVertex.Op.Add), "a", "b")
                .addLayer("relu", new ActivationLayer.Builder().activation(Activation.RELU6).build(), "sum")
                .addLayer("pool", new GlobalPoolingLayer.Builder(PoolingType.MAX).build(), "relu")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2)
                        .activation(Activation.SOFTMAX).build(), "pool")
                .setOutputs("out").build());
        graph.init();
        FusedInference fused = FusedInference.compile(graph);

        INDArray x = Nd4j.rand(DataType.FLOAT, 2, 3, 9, 9);

        assertThat(fused.summary()).contains("0 residual adds and 3 activations fused");
        assertThat(maxDifference(fused.output(x), graph.outputSingle(x))).isLessThan(TOLERANCE);
    }

    @Test
    void aPublishedModelLoadsAndCompilesAsReadmeShows(@TempDir Path models) throws Exception {
        ComputationGraph trained = trainedLooking(Models.resnet(8, 4, SHAPE, 10, 9, new Nesterovs(0.01, 0.9), 0));
        Path zip = Files.createDirectories(models.resolve("resnet20-fmnist-structured/latest")).resolve("model.zip");
        ModelSerializer.writeModel(trained, zip.toFile(), false);
        INDArray images = Nd4j.rand(DataType.FLOAT, 2, 1, 28, 28);

        SerialFilter.install();
        Model model = Models.load(models.resolve("resnet20-fmnist-structured/latest/model.zip"));
        FusedInference fused = FusedInference.compile(model);
        INDArray probabilities = fused.output(images);

        assertThat(maxDifference(probabilities, trained.outputSingle(images))).isLessThan(TOLERANCE);
    }

    @Test
    void aClosedNetworkRefusesToRunAndClosesOnce() {
        FusedInference fused = FusedInference.compile(Models.lenet5(4, new Nesterovs(0.01, 0.9), 0));
        INDArray rows = Nd4j.rand(DataType.FLOAT, 2, 784);
        fused.output(rows);
        fused.output(rows.reshape(2, 1, 28, 28));

        fused.close();
        fused.close();

        assertThatThrownBy(() -> fused.output(rows)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("compile the model again");
    }

    @Test
    void aLayerWithNoFusedFormIsRefusedByName() {
        MultiLayerNetwork rnn = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().list()
                .layer(new LSTM.Builder().name("memory").nOut(4).build())
                .layer(new RnnOutputLayer.Builder().nOut(2).build())
                .setInputType(InputType.recurrent(3)).build());
        rnn.init();

        assertThatThrownBy(() -> FusedInference.compile(rnn)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("'memory' (LSTM) has no fused form").hasMessageContaining("DL4J's own output()");
    }

    @Test
    void anInputOfAnotherShapeThanTheNetworkReadsIsRefused() {
        FusedInference fused = FusedInference.compile(Models.resnet(8, 4, SHAPE, 10, 6, new Nesterovs(0.01, 0.9), 0));

        assertThatThrownBy(() -> fused.output(Nd4j.rand(DataType.FLOAT, 1, 3, 28, 28)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("expects 1 channels");
        assertThatThrownBy(() -> fused.output(Nd4j.rand(DataType.DOUBLE, 1, 1, 28, 28)))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("castTo(DataType.FLOAT)");
    }

    /** Gives every batch norm running statistics and an affine transform far from their initial 0, 1, 1, 0. */
    private static ComputationGraph trainedLooking(ComputationGraph graph) {
        randomiseBatchNorms(graph.getLayers());
        return graph;
    }

    private static void randomiseBatchNorms(Layer[] layers) {
        Nd4j.getRandom().setSeed(42);
        for (Layer layer : layers) {
            if (layer.conf().getLayer() instanceof BatchNormalization) {
                long c = layer.getParam("mean").length();
                layer.setParam("mean", Nd4j.rand(DataType.FLOAT, 1, c).subi(0.5));
                if (layer.paramTable().containsKey("var")) {
                    layer.setParam("var", Nd4j.rand(DataType.FLOAT, 1, c).addi(0.5));
                } else { // a batch norm that keeps log10 of its standard deviation (DL4J's default)
                    layer.setParam("log10stdev", Nd4j.rand(DataType.FLOAT, 1, c).subi(0.5).muli(0.6));
                }
                layer.setParam("gamma", Nd4j.rand(DataType.FLOAT, 1, c).addi(0.5));
                layer.setParam("beta", Nd4j.rand(DataType.FLOAT, 1, c).subi(0.5));
            }
        }
    }

    private static void assertSameOutputs(ComputationGraph graph, FusedInference fused, int... batches) {
        for (int batch : batches) {
            INDArray x = Nd4j.rand(DataType.FLOAT, batch, 1, 28, 28);
            assertThat(maxDifference(fused.output(x), graph.outputSingle(x))).as("batch " + batch)
                    .isLessThan(TOLERANCE);
        }
    }

    private static double maxDifference(INDArray a, INDArray b) {
        assertThat(a.shape()).isEqualTo(b.shape());
        return a.sub(b).amaxNumber().doubleValue();
    }

}
