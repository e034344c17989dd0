package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.io.FileOutputStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileSystem;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.deeplearning4j.zoo.model.LeNet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class PrunedModelTest {
    @TempDir
    Path dir;

    /** DL4J's zoo LeNet-5 for 28x28 MNIST: cnn1, maxpool1, cnn2, maxpool2, ffn1, output. */
    private static MultiLayerNetwork lenet5() {
        return (MultiLayerNetwork) LeNet.builder().numClasses(10).seed(7).inputShape(new int[]{1, 28, 28}).build()
                .init();
    }

    /** Prunes with a mix of methods, several of them twice, and a global step across layers. */
    private static Pruning pruneWithAMix(MultiLayerNetwork net) {
        Pruning pruning = Pruning.of(net).seed(11);
        pruning.randomUnstructured("cnn1.weight", Amount.fraction(0.3))
                .l1Unstructured("cnn1.bias", Amount.count(3))
                .lnStructured("cnn2.weight", Amount.fraction(0.25), Norm.L2, 0)
                .l1Unstructured("cnn2.weight", Amount.fraction(0.1))
                .semiStructured("output.weight", 2, 4)
                .globalUnstructured(List.of("ffn1.weight", "output.weight"), Amount.fraction(0.2))
                .identity("output.bias");
        return pruning;
    }

    @Test
    void restoresMasksOrigsStateDictAndOutputsBitForBit() throws Exception {
        MultiLayerNetwork net = lenet5();
        Pruning pruning = pruneWithAMix(net);
        File file = dir.resolve("lenet5.zip").toFile();

        PrunedModel.save(net, pruning, file, true);
        PrunedModel restored = PrunedModel.restore(file, true);

        Pruning back = restored.pruning();
        assertThat(back.prunedNames()).containsExactlyElementsOf(pruning.prunedNames())
                .containsExactly("cnn1.bias", "cnn1.weight", "cnn2.weight", "ffn1.weight", "output.weight",
                        "output.bias");
        for (String name : pruning.prunedNames()) {
            assertThat(back.isPruned(name)).isTrue();
            Bits.assertSame(back.mask(name), pruning.mask(name), name + "_mask");
            Bits.assertSame(back.orig(name), pruning.orig(name), name + "_orig");
        }
        assertThat(back.isPruned("ffn1.bias")).isFalse();
        Bits.assertSame(back.stateDict(), pruning.stateDict());
        Bits.assertSame(restored.network().params(), net.params(), "parameters");
        INDArray batch = Nd4j.rand(Nd4j.getRandomFactory().getNewRandomInstance(3), 8, 1, 28, 28);
        Bits.assertSame(restored.network().output(batch), net.output(batch), "output");
        Bits.assertSame(restored.network().getUpdater().getStateViewArray(), net.getUpdater().getStateViewArray(),
                "updater");
    }

    @Test
    void leavesAFileThatDl4jAloneRestoresAsThePrunedNetwork() throws Exception {
        MultiLayerNetwork net = lenet5();
        Pruning pruning = pruneWithAMix(net);
        File file = dir.resolve("lenet5.zip").toFile();
        PrunedModel.save(net, pruning, file, false);

        MultiLayerNetwork plain = ModelSerializer.restoreMultiLayerNetwork(file, false);

        Bits.assertSame(plain.params(), net.params(), "parameters");
        assertThat(Pruning.of(plain).report().total().zeros()).isEqualTo(pruning.report().total().zeros());
    }

    @Test
    void savesWhatTrainingChangedSinceMasksWereLastApplied() throws Exception {
        MultiLayerNetwork net = lenet5();
        Pruning pruning = pruneWithAMix(net);
        net.fit(Nd4j.rand(Nd4j.getRandomFactory().getNewRandomInstance(5), 4, 1, 28, 28), TutorialLeNet.labels(4, 5));
        assertThat(net.getLayer("cnn1").getParam("W").mul(pruning.mask("cnn1.weight").rsub(1)).neq(0).any())
                .as("training moved pruned weights").isTrue();
        File file = dir.resolve("trained.zip").toFile();

        PrunedModel.save(net, pruning, file, false);
        PrunedModel restored = PrunedModel.restore(file, false);

        Bits.assertSame(restored.pruning().stateDict(), pruning.stateDict());
        assertThat(
                restored.network().getLayer("cnn1").getParam("W").mul(pruning.mask("cnn1.weight").rsub(1)).neq(0).any())
                .as("pruned weights are zero again").isFalse();
    }

    @Test
    void savesARestoredModelAgainAsItWas() throws Exception {
        MultiLayerNetwork net = lenet5();
        Pruning pruning = pruneWithAMix(net);
        File first = dir.resolve("first.zip").toFile();
        File second = dir.resolve("second.zip").toFile();
        PrunedModel.save(net, pruning, first, false);

        PrunedModel.restore(first, false).save(second, false);
        PrunedModel again = PrunedModel.restore(second, false);

        Bits.assertSame(again.pruning().stateDict(), pruning.stateDict());
    }

    @Test
    void readsTheEntryNamesOfTheFirstVersion() throws Exception {
        MultiLayerNetwork net = lenet5();
        Pruning pruning = pruneWithAMix(net);
        File current = dir.resolve("current.zip").toFile();
        File legacy = dir.resolve("legacy.zip").toFile();
        PrunedModel.save(net, pruning, current, false);
        // The first version wrote shears/pruning.json and shears/masks/<i>.bin, with no folder entries.
        try (ZipFile in = new ZipFile(current);
                ZipOutputStream out = new ZipOutputStream(new FileOutputStream(legacy))) {
            for (ZipEntry e : Collections.list(in.entries())) {
                byte[] bytes = in.getInputStream(e).readAllBytes();
                String name = e.getName().equals(PrunedModel.INDEX_ENTRY) ? "shears/pruning.json"
                        : e.getName().replaceFirst("^shears-mask-(\\d+)\\.bin$", "shears/masks/$1.bin");
                if (name.equals("shears/pruning.json")) {
                    bytes = new String(bytes, StandardCharsets.UTF_8)
                            .replaceAll("shears-mask-(\\d+)\\.bin", "shears/masks/$1.bin")
                            .getBytes(StandardCharsets.UTF_8);
                }
                out.putNextEntry(new ZipEntry(name));
                out.write(bytes);
            }
        }

        PrunedModel restored = PrunedModel.restore(legacy, false);

        assertThat(restored.pruning().isPruned()).isTrue();
        Bits.assertSame(restored.pruning().stateDict(), pruning.stateDict());
    }

    @Test
    void restoresAComputationGraphFromTheFileAlone() throws Exception {
        ComputationGraph graph = smallGraph();
        Pruning pruning = Pruning.of(graph)
                .l1Unstructured("left.weight", Amount.fraction(0.5))
                .lnStructured("right_W", Amount.count(2), Norm.L1, 0);
        File file = dir.resolve("graph.zip").toFile();

        PrunedModel.save(graph, pruning, file, false);
        PrunedModel restored = PrunedModel.restore(file, false);

        assertThat(restored.model()).isInstanceOf(ComputationGraph.class);
        Bits.assertSame(restored.pruning().stateDict(), pruning.stateDict());
        INDArray x = Nd4j.rand(Nd4j.getRandomFactory().getNewRandomInstance(1), 5, 6);
        Bits.assertSame(restored.graph().outputSingle(x), graph.outputSingle(x), "output");
        assertThatThrownBy(restored::network).isInstanceOf(IllegalStateException.class).hasMessageContaining("graph()");
    }

    @Test
    void restoresUnprunedFromAPlainDl4jFileOrAnUnprunedSave() throws Exception {
        MultiLayerNetwork net = lenet5();
        File plain = dir.resolve("plain.zip").toFile();
        File unpruned = dir.resolve("unpruned.zip").toFile();
        ModelSerializer.writeModel(net, plain, false);
        PrunedModel.save(net, Pruning.of(net), unpruned, false);

        for (File file : List.of(plain, unpruned)) {
            PrunedModel restored = PrunedModel.restore(file, false);
            assertThat(restored.pruning().isPruned()).as(file.getName()).isFalse();
            Bits.assertSame(restored.pruning().stateDict(), Pruning.of(net).stateDict());
        }
    }

    @Test
    void keepsAMaskOfOtherValuesThanZeroAndOneExactly() throws Exception {
        MultiLayerNetwork net = lenet5();
        INDArray soft = Nd4j.createFromArray(new float[]{0.5f, 1f, 0f, -0f, 1f, 0.25f, 1f, 1f, 1f, 1f,
                1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f, 1f});
        Pruning pruning = Pruning.of(net).customFromMask("cnn1.bias", soft);
        File file = dir.resolve("soft.zip").toFile();

        PrunedModel.save(net, pruning, file, false);
        PrunedModel restored = PrunedModel.restore(file, false);

        Bits.assertSame(restored.pruning().mask("cnn1.bias"), pruning.mask("cnn1.bias"), "mask");
        Bits.assertSame(restored.pruning().stateDict(), pruning.stateDict());
    }

    @Test
    void refusesAPruningStateMadeOverAnotherModel() {
        MultiLayerNetwork net = lenet5();
        Pruning other = Pruning.of(lenet5()).l1Unstructured("cnn1.weight", Amount.fraction(0.5));

        assertThatThrownBy(() -> PrunedModel.save(net, other, dir.resolve("x.zip").toFile(), false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("not over this model").hasMessageContaining("Pruning.of(model)");
        assertThatThrownBy(() -> new PrunedModel(net, other)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void namesTheEntryWhenAMaskEntryIsTruncated() throws Exception {
        MultiLayerNetwork net = lenet5();
        File file = dir.resolve("damaged.zip").toFile();
        PrunedModel.save(net, pruneWithAMix(net), file, false);
        try (FileSystem zip = FileSystems.newFileSystem(file.toPath(), Map.of())) {
            Path entry = zip.getPath("shears-mask-1.bin");
            byte[] bytes = Files.readAllBytes(entry);
            Files.write(entry, java.util.Arrays.copyOf(bytes, bytes.length - 4));
        }

        assertThatThrownBy(() -> PrunedModel.restore(file, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("shears-mask-1.bin").hasMessageContaining("cnn1.weight")
                .hasMessageContaining("fix:");
    }

    @Test
    void namesTheEntryWhenTheIndexNamesAParameterTheModelLacks() throws Exception {
        MultiLayerNetwork net = lenet5();
        File file = dir.resolve("renamed.zip").toFile();
        PrunedModel.save(net, pruneWithAMix(net), file, false);
        try (FileSystem zip = FileSystems.newFileSystem(file.toPath(), Map.of())) {
            Path index = zip.getPath(PrunedModel.INDEX_ENTRY);
            String json = Files.readString(index, StandardCharsets.UTF_8);
            Files.writeString(index, json.replace("\"cnn2.weight\"", "\"cnn9.weight\""), StandardCharsets.UTF_8);
        }

        assertThatThrownBy(() -> PrunedModel.restore(file, false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining(PrunedModel.INDEX_ENTRY).hasMessageContaining("cnn9.weight")
                .hasMessageContaining("shears-mask-2.bin");
    }

    @Test
    void refusesAFileThatIsNoModel() throws Exception {
        Path file = dir.resolve("empty.zip");
        try (FileSystem zip = FileSystems.newFileSystem(URI.create("jar:" + file.toUri()), Map.of("create", "true"))) {
            Files.writeString(zip.getPath("readme.txt"), "not a model");
        }

        assertThatThrownBy(() -> PrunedModel.restore(file.toFile(), false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("configuration.json").hasMessageContaining("fix:");
    }

    /** in -> left, right -> merge -> out: two dense branches with named vertices. */
    static ComputationGraph smallGraph() {
        ComputationGraphConfiguration conf = new NeuralNetConfiguration.Builder().seed(3)
                .graphBuilder()
                .addInputs("in")
                .setInputTypes(InputType.feedForward(6))
                .addLayer("left", new DenseLayer.Builder().nOut(8).activation(Activation.TANH).build(), "in")
                .addLayer("right", new DenseLayer.Builder().nOut(4).activation(Activation.RELU).build(), "in")
                .addVertex("merge", new MergeVertex(), "left", "right")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MSE).nOut(3)
                        .activation(Activation.IDENTITY).build(), "merge")
                .setOutputs("out")
                .build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        return graph;
    }
}
