package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** DL4J's model file, entry for entry and byte for byte, and the extra entries after it. */
class ModelFileWriterTest {
    @TempDir
    Path dir;

    @Test
    void aTrainedNetworkIsWrittenAsModelSerializerWritesItAndRestoresTheSame() throws IOException {
        MultiLayerNetwork net = TutorialLeNet.build(3);
        net.fit(TutorialLeNet.batch(8, 1), TutorialLeNet.labels(8, 1)); // an updater with state
        assertSameEntries(net, true);
        assertSameEntries(net, false);

        Path ours = dir.resolve("ours.zip");
        ModelFileWriter.write(net, true, Map.of(), ours);
        MultiLayerNetwork restored = ModelSerializer.restoreMultiLayerNetwork(ours.toFile(), true);
        assertThat(restored.params()).isEqualTo(net.params());
        assertThat(restored.getUpdater().getStateViewArray()).isEqualTo(net.getUpdater().getStateViewArray());
    }

    @Test
    void aGraphToo() throws IOException {
        ComputationGraph graph = Graphs.residual();
        assertSameEntries(graph, true);
    }

    @Test
    void extraEntriesFollowDl4jsInTheirOrder() throws IOException {
        Map<String, byte[]> extra = new LinkedHashMap<>();
        extra.put("b.json", "{}".getBytes(StandardCharsets.UTF_8));
        extra.put("a.bin", new byte[]{1, 2, 3});
        Path file = dir.resolve("extra.zip");
        ModelFileWriter.write(TutorialLeNet.build(4), false, extra, file);
        try (ZipFile zip = new ZipFile(file.toFile())) {
            assertThat(Collections.list(zip.entries()).stream().map(ZipEntry::getName))
                    .containsExactly(ModelSerializer.CONFIGURATION_JSON, ModelSerializer.COEFFICIENTS_BIN, "b.json",
                            "a.bin");
            assertThat(zip.getInputStream(zip.getEntry("a.bin")).readAllBytes()).containsExactly(1, 2, 3);
        }
    }

    private void assertSameEntries(Model model, boolean saveUpdater) throws IOException {
        File theirs = dir.resolve("dl4j-" + saveUpdater + ".zip").toFile();
        ModelSerializer.writeModel(model, theirs, saveUpdater);
        Path ours = dir.resolve("ours-" + saveUpdater + ".zip");
        ModelFileWriter.write(model, saveUpdater, Map.of(), ours);
        try (ZipFile a = new ZipFile(theirs); ZipFile b = new ZipFile(ours.toFile())) {
            assertThat(Collections.list(b.entries()).stream().map(ZipEntry::getName))
                    .containsExactlyElementsOf(Collections.list(a.entries()).stream().map(ZipEntry::getName).toList());
            for (ZipEntry e : Collections.list(a.entries())) {
                assertThat(b.getInputStream(b.getEntry(e.getName())).readAllBytes()).as(e.getName())
                        .isEqualTo(a.getInputStream(e).readAllBytes());
            }
        }
    }
}
