package dev.shears.deploy.faults;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.process.SerialFilter;
import dev.shears.prune.Amount;
import dev.shears.prune.ModelZips;
import dev.shears.prune.PrunableParameter;
import dev.shears.prune.Pruning;
import dev.shears.trainer.checkpoint.CheckpointState;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.model.Models;
import dev.shears.trainer.publish.SparseModel;
import java.io.ByteArrayOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InvalidClassException;
import java.io.ObjectInputStream;
import java.io.ObjectOutputStream;
import java.io.OutputStream;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

/**
 * Model files as hostile input, with the services' deserialization filter installed ({@link SerialFilter}, as every
 * entry point does): every kind of model file Shears writes still restores, a Java-serialized object in
 * {@code preprocessor.bin} never runs, a zip bomb is refused by its limit before it is inflated, and an array header
 * that asks for more memory than its entry holds is refused before ND4J allocates it.
 */
class ModelFilesTest {

    @TempDir
    Path dir;

    /** A stand-in for a gadget: deserializing it records that its code ran. */
    static final class Gadget implements Serializable {
        private static final long serialVersionUID = 1L;
        static final AtomicBoolean RAN = new AtomicBoolean();

        private void readObject(ObjectInputStream in) throws IOException, ClassNotFoundException {
            in.defaultReadObject();
            RAN.set(true);
        }
    }

    @BeforeAll
    static void installTheServicesFilter() {
        SerialFilter.install();
    }

    /** LeNet-5 with Nesterovs momentum after one batch: parameters and updater state that are not zeros. */
    static MultiLayerNetwork trainedLenet5() {
        MultiLayerNetwork net = Models.lenet5(7, new Nesterovs(0.01, 0.9), 1e-4);
        var labels = Nd4j.zeros(16, 10);
        for (int i = 0; i < 16; i++) {
            labels.putScalar(i, i % 10, 1);
        }
        Nd4j.getRandom().setSeed(7);
        net.fit(new DataSet(Nd4j.rand(DataType.FLOAT, 16, 784), labels));
        return net;
    }

    @Test
    void everyKindOfModelFileShearsWritesRestoresUnderTheFilter() throws IOException {
        MultiLayerNetwork net = trainedLenet5();

        Path withUpdater = dir.resolve("lenet5.zip");
        ModelSerializer.writeModel(net, withUpdater.toFile(), true);
        MultiLayerNetwork loaded = (MultiLayerNetwork) Models.load(withUpdater);
        assertThat(loaded.params()).isEqualTo(net.params());
        assertThat(loaded.getUpdater().getStateViewArray()).isEqualTo(net.getUpdater().getStateViewArray());

        ComputationGraph graph = Models.lenet300100(3, new Nesterovs(0.01, 0.9), 0).toComputationGraph();
        Path graphFile = dir.resolve("graph.zip");
        ModelSerializer.writeModel(graph, graphFile.toFile(), true);
        Model loadedGraph = Models.load(graphFile);
        assertThat(loadedGraph).isInstanceOf(ComputationGraph.class);
        assertThat(loadedGraph.params()).isEqualTo(graph.params());

        Pruning pruning = Pruning.of(net);
        for (PrunableParameter p : pruning.prunableWeights()) {
            pruning.l1Unstructured(p.name(), Amount.fraction(0.6));
        }
        Checkpoints checkpoints = new Checkpoints(dir.resolve("checkpoints"));
        checkpoints.save(net, pruning, new CheckpointState("files", 1, 1, 0, 1, 7, 0.6, 0.6, 0.1, 2.3, Map.of(), 0.1,
                List.of(), Instant.now()), 2);
        Checkpoints.Restored restored = checkpoints.restoreLatest().orElseThrow();
        assertThat(restored.rejected()).isEmpty();
        assertThat(restored.model().network().params()).isEqualTo(net.params());
        assertThat(restored.model().network().getUpdater().getStateViewArray())
                .isEqualTo(net.getUpdater().getStateViewArray());
        assertThat(restored.model().pruning().stateDict()).isEqualTo(pruning.stateDict());

        pruning.removeAll();
        Path published = dir.resolve("model.zip");
        ModelSerializer.writeModel(net, published.toFile(), false); // as the publisher writes it
        assertThat(Models.load(published).params()).isEqualTo(net.params());
        Path sparse = dir.resolve("model.sparse.zip");
        SparseModel.write(net, sparse);
        assertThat(SparseModel.read(sparse).params()).isEqualTo(net.params());
    }

    @Test
    void aGadgetInPreprocessorBinIsRefusedBeforeItsCodeRuns() throws IOException {
        Path file = withPreprocessor(trainedLenet5(), new Gadget());
        Gadget.RAN.set(false);

        assertThatThrownBy(() -> Models.load(file)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(
                        "model file " + file + " has an entry preprocessor.bin, a Java-serialized object");
        assertThat(Gadget.RAN).as("the gadget's readObject ran").isFalse();
    }

    @Test
    void dl4jCalledDirectlyOnTheGadgetMeetsTheFilter() throws IOException {
        Path file = withPreprocessor(trainedLenet5(), new Gadget());
        Gadget.RAN.set(false);

        assertThatThrownBy(() -> ModelSerializer.restoreMultiLayerNetwork(file.toFile(), false))
                .isInstanceOf(InvalidClassException.class).hasMessageContaining("REJECTED");
        assertThat(Gadget.RAN).as("the gadget's readObject ran").isFalse();
    }

    @Test
    void aZipBombAsAModelIsRefusedNamingTheFileAndTheLimit() throws IOException {
        Path file = dir.resolve("bomb.zip");
        try (ZipOutputStream zip = new ZipOutputStream(Files.newOutputStream(file))) {
            zip.putNextEntry(new ZipEntry(ModelSerializer.CONFIGURATION_JSON));
            zip.write("{\"confs\":[]}".getBytes(java.nio.charset.StandardCharsets.UTF_8));
            zip.putNextEntry(new ZipEntry(ModelSerializer.COEFFICIENTS_BIN));
            byte[] zeros = new byte[1 << 20];
            for (int i = 0; i < 100; i++) {
                zip.write(zeros);
            }
            zip.closeEntry();
        }

        assertThatThrownBy(() -> Models.load(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("model file " + file + " inflates to 104857612 bytes, more than "
                        + ModelZips.Limits.DEFAULT.maxRatio() + " times its")
                .hasMessageContaining("possible zip bomb");
    }

    @Test
    void anArrayHeaderAskingForTerabytesIsRefusedBeforeNd4jAllocates() throws IOException {
        Path saved = dir.resolve("saved.zip");
        ModelSerializer.writeModel(trainedLenet5(), saved.toFile(), true);
        Map<String, byte[]> entries = entries(saved);
        ByteArrayOutputStream forged = new ByteArrayOutputStream();
        try (DataOutputStream out = new DataOutputStream(forged)) { // Nd4j.write's layout: a vector of 2^40 floats
            out.writeUTF("MIXED_DATA_TYPES");
            out.writeLong(6);
            out.writeUTF("LONG");
            for (long v : new long[]{1, 1L << 40, 1, 8192, 1, 'c'}) {
                out.writeLong(v);
            }
            out.writeUTF("MIXED_DATA_TYPES");
            out.writeLong(1L << 40);
            out.writeUTF("FLOAT");
            out.write(new byte[1024]);
        }
        entries.put(ModelSerializer.COEFFICIENTS_BIN, forged.toByteArray());
        Path file = zip("forged.zip", entries);

        assertThatThrownBy(() -> Models.load(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("model file " + file + " entry coefficients.bin declares 1099511627776 FLOAT"
                        + " elements (4 bytes each) but holds 1024 bytes of data after its headers");
    }

    /** {@code net} saved by DL4J, with {@code object} Java-serialized as its {@code preprocessor.bin}. */
    private Path withPreprocessor(MultiLayerNetwork net, Serializable object) throws IOException {
        Path saved = dir.resolve("saved.zip");
        ModelSerializer.writeModel(net, saved.toFile(), false);
        Map<String, byte[]> entries = entries(saved);
        ByteArrayOutputStream serialized = new ByteArrayOutputStream();
        try (ObjectOutputStream out = new ObjectOutputStream(serialized)) {
            out.writeObject(object);
        }
        entries.put(ModelZips.PREPROCESSOR_ENTRY, serialized.toByteArray());
        return zip("with-preprocessor.zip", entries);
    }

    private static Map<String, byte[]> entries(Path zipFile) throws IOException {
        Map<String, byte[]> entries = new LinkedHashMap<>();
        try (ZipFile zip = new ZipFile(zipFile.toFile())) {
            for (ZipEntry e : Collections.list(zip.entries())) {
                entries.put(e.getName(), zip.getInputStream(e).readAllBytes());
            }
        }
        return entries;
    }

    private Path zip(String name, Map<String, byte[]> entries) throws IOException {
        Path file = dir.resolve(name);
        try (OutputStream raw = Files.newOutputStream(file); ZipOutputStream zip = new ZipOutputStream(raw)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                zip.putNextEntry(new ZipEntry(e.getKey()));
                zip.write(e.getValue());
            }
        }
        return file;
    }
}
