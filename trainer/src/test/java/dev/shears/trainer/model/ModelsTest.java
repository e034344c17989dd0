package dev.shears.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import dev.shears.common.recipe.Augmentation;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.Subset;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.learning.regularization.L2Regularization;
import org.nd4j.linalg.learning.regularization.Regularization;

class ModelsTest {

    private static final Nesterovs SGD = new Nesterovs(0.01, 0.9);

    @TempDir
    Path dir;

    @Test
    void lenet5HasPyTorchsLayersShapesAndSixtyOneThousandSevenHundredSixParameters() {
        MultiLayerNetwork net = Models.lenet5(1, SGD, 0);

        assertThat(layerNames(net)).containsExactly("conv1", "pool1", "conv2", "pool2", "fc1", "fc2", "fc3");
        assertThat(net.numParams()).isEqualTo(61_706);
        Map<String, List<Long>> shapes = paramShapes(net);
        assertThat(shapes).containsEntry("0_W", List.of(6L, 1L, 5L, 5L))
                .containsEntry("0_b", List.of(6L))
                .containsEntry("2_W", List.of(16L, 6L, 5L, 5L))
                .containsEntry("4_W", List.of(400L, 120L))
                .containsEntry("5_W", List.of(120L, 84L))
                .containsEntry("6_W", List.of(84L, 10L))
                .containsEntry("6_b", List.of(10L));
        assertThat(net.params().dataType()).isEqualTo(DataType.FLOAT);
    }

    @Test
    void lenet300100HasThreeDenseLayersAndTwoHundredSixtySixThousandSixHundredTenParameters() {
        MultiLayerNetwork net = Models.lenet300100(1, SGD, 0);

        assertThat(layerNames(net)).containsExactly("fc1", "fc2", "fc3");
        assertThat(net.numParams()).isEqualTo(266_610);
        assertThat(paramShapes(net)).containsEntry("0_W", List.of(784L, 300L))
                .containsEntry("1_W", List.of(300L, 100L))
                .containsEntry("2_W", List.of(100L, 10L));
    }

    @Test
    void bothModelsMapABatchOfFlatImagesToClassProbabilities() {
        INDArray features = Batches.inOrder(Subset.load().testExamples().flat(), Subset.standard(784), 3).next()
                .getFeatures();

        for (MultiLayerNetwork net : List.of(Models.lenet5(1, SGD, 0), Models.lenet300100(1, SGD, 0))) {
            INDArray output = net.output(features, false);
            assertThat(output.shape()).containsExactly(3, 10);
            assertThat(output.sum(1).toDoubleVector()).containsExactly(new double[]{1, 1, 1}, offset(1e-5));
        }
    }

    @Test
    void theSeedDecidesTheInitialWeights() {
        assertThat(Models.lenet5(7, SGD, 0).params()).isEqualTo(Models.lenet5(7, SGD, 0).params());
        assertThat(Models.lenet5(7, SGD, 0).params()).isNotEqualTo(Models.lenet5(8, SGD, 0).params());
    }

    @Test
    void weightDecayIsAnL2PenaltyOnWeightsAndBiasesOfEveryTrainableLayer() {
        MultiLayerNetwork net = Models.lenet5(1, SGD, 5e-4);

        for (Layer layer : net.getLayers()) {
            if (layer.conf().getLayer() instanceof BaseLayer base) {
                assertThat(l2(base.getRegularization())).as(base.getLayerName() + " weights").isEqualTo(5e-4);
                assertThat(l2(base.getRegularizationBias())).as(base.getLayerName() + " biases").isEqualTo(5e-4);
            }
        }
        BaseLayer fc1 = (BaseLayer) Models.lenet5(1, SGD, 0).getLayer("fc1").conf().getLayer();
        assertThat(fc1.getRegularization()).isEmpty();
        assertThat(fc1.getRegularizationBias()).isEmpty();
    }

    @Test
    void theUpdaterIsTheOneGiven() {
        BaseLayer conv1 = (BaseLayer) Models.lenet5(1, new Nesterovs(0.05, 0.8), 0).getLayer("conv1").conf().getLayer();

        assertThat(conv1.getIUpdater()).isEqualTo(new Nesterovs(0.05, 0.8));
    }

    @Test
    void aNegativeWeightDecayIsRejected() {
        assertThatThrownBy(() -> Models.lenet5(1, SGD, -1e-4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("weight decay -1.0E-4 is out of range");
    }

    @Test
    void createBuildsTheNamedArchitecture() {
        assertThat(((MultiLayerNetwork) Models.create("lenet5", 3, SGD, 0)).params())
                .isEqualTo(Models.lenet5(3, SGD, 0).params());
        assertThat(Models.create("lenet300100", 3, SGD, 0).numParams()).isEqualTo(266_610);
    }

    @Test
    void createRejectsAnUnknownNameListingTheValidOnes() {
        assertThatThrownBy(() -> Models.create("resnet18", 1, SGD, 0))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("model has a problem: model \"resnet18\" is not a known model: must be lenet5, lenet300100,"
                        + " resnet, mobilenetv2, vgg or file:<path to a DL4J ModelSerializer zip under the worker's model root>"
                        + " (fix: did you mean resnet?)");
    }

    @Test
    void loadRestoresASavedNetworkWithItsParametersAndUpdaterState() throws IOException {
        MultiLayerNetwork trained = Models.lenet5(1, SGD, 0);
        trained.fit(Batches.shuffled(Subset.load().trainExamples(), Subset.standard(1), 32, 1, Augmentation.NONE)
                .next());
        Path file = dir.resolve("lenet5.zip");
        ModelSerializer.writeModel(trained, file.toFile(), true);

        Model loaded = Models.load(file);

        assertThat(loaded).isInstanceOf(MultiLayerNetwork.class);
        MultiLayerNetwork network = (MultiLayerNetwork) loaded;
        assertThat(network.params()).isEqualTo(trained.params());
        assertThat(network.getUpdater().getStateViewArray()).isEqualTo(trained.getUpdater().getStateViewArray());
        assertThat(layerNames(network)).isEqualTo(layerNames(trained));
    }

    @Test
    void loadRestoresAComputationGraphAsAGraph() throws IOException {
        ComputationGraph graph = Models.lenet300100(1, SGD, 0).toComputationGraph();
        Path file = dir.resolve("graph.zip");
        ModelSerializer.writeModel(graph, file.toFile(), false);

        Model loaded = Models.load(file);

        assertThat(loaded).isInstanceOf(ComputationGraph.class);
        assertThat(loaded.params()).isEqualTo(graph.params());
    }

    @Test
    void loadNamesAMissingFile() {
        Path missing = dir.resolve("missing.zip");

        assertThatThrownBy(() -> Models.load(missing))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("model file " + missing + " does not exist"
                        + "; pass the path of a zip written by ModelSerializer.writeModel");
    }

    @Test
    void loadRejectsAFileThatIsNotAZip() throws IOException {
        Path file = Files.writeString(dir.resolve("model.zip"), "not a zip");

        assertThatThrownBy(() -> Models.load(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model file " + file + " is not a DL4J model: it is not a zip");
    }

    @Test
    void loadRejectsAZipWithoutAConfiguration() throws IOException {
        Path file = zip("other.zip", Map.of("readme.txt", "hello".getBytes(StandardCharsets.UTF_8)));

        assertThatThrownBy(() -> Models.load(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model file " + file + " is not a DL4J model: the zip has no configuration.json");
    }

    @Test
    void loadReportsDamagedCoefficientsAsADamagedFile() throws IOException {
        Path saved = dir.resolve("saved.zip");
        ModelSerializer.writeModel(Models.lenet300100(1, SGD, 0), saved.toFile(), false);
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(saved.toFile())) {
            for (ZipEntry entry : Collections.list(zip.entries())) {
                entries.put(entry.getName(), zip.getInputStream(entry).readAllBytes());
            }
        }
        byte[] coefficients = entries.get(ModelSerializer.COEFFICIENTS_BIN);
        entries.put(ModelSerializer.COEFFICIENTS_BIN, Arrays.copyOf(coefficients, coefficients.length / 3));
        Path damaged = zip("damaged.zip", entries);

        assertThatThrownBy(() -> Models.load(damaged))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("model file " + damaged + " entry coefficients.bin declares 266610 FLOAT")
                .hasMessageContaining("it is refused before anything reads it");
    }

    private Path zip(String name, Map<String, byte[]> entries) throws IOException {
        Path file = dir.resolve(name);
        try (OutputStream raw = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(raw)) {
            for (Map.Entry<String, byte[]> entry : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(entry.getKey()));
                zip.write(entry.getValue());
                zip.closeEntry();
            }
        }
        return file;
    }

    private static List<String> layerNames(MultiLayerNetwork net) {
        return Arrays.stream(net.getLayers()).map(layer -> layer.conf().getLayer().getLayerName()).toList();
    }

    private static Map<String, List<Long>> paramShapes(MultiLayerNetwork net) {
        Map<String, List<Long>> shapes = new LinkedHashMap<>();
        net.paramTable().forEach((key, value) -> shapes.put(key, Arrays.stream(value.shape()).boxed().toList()));
        return shapes;
    }

    private static double l2(List<Regularization> regularizations) {
        return regularizations.stream().filter(L2Regularization.class::isInstance)
                .mapToDouble(r -> ((L2Regularization) r).getL2().valueAt(0, 0)).sum();
    }
}
