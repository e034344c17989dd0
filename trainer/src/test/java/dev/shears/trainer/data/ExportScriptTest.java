package dev.shears.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shears.common.data.InputShape;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** deploy/data/fashion-mnist-export.py writes data sets that read back as the IDX files they came from. */
class ExportScriptTest {

    private static final Path SCRIPT = Path.of("../deploy/data/fashion-mnist-export.py");

    @TempDir
    Path root;

    @ParameterizedTest
    @ValueSource(strings = {"images", "csv"})
    void theExportedDataSetHoldsTheSubsetsFirstImages(String format) throws IOException, InterruptedException {
        assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "python3 is not installed");
        Process p = new ProcessBuilder("/usr/bin/python3", SCRIPT.toString(), format, root.resolve("out").toString(),
                "--source", Subset.dir().toString(), "--limit", "40").redirectErrorStream(true).start();
        String output = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(output).isZero();

        LoadedDataset exported = new DataCache(Roots.of("data", List.of(root)), Long.MAX_VALUE, root)
                .get("out", Optional.empty());

        assertThat(exported.trainSize()).isEqualTo(40);
        Examples examples = new Examples(exported.train(), null, exported.shape(), exported.classNames());
        Examples original = Subset.load().trainExamples();
        float[] values = new float[784];
        for (int i = 0; i < 40; i++) {
            examples.read(i, values, 0, new byte[784]);
            int label = examples.label(i);
            boolean found = false;
            for (int j = 0; j < 40 && !found; j++) {
                float[] image = Subset.values(original, j);
                float scale = format.equals("csv") ? 255f : 1f;
                float[] scaled = new float[784];
                for (int k = 0; k < 784; k++) {
                    scaled[k] = Math.round(image[k] * 255f) / 255f * scale;
                }
                found = original.label(j) == label && Arrays.equals(scaled, values);
            }
            assertThat(found).as("exported example %d is one of the subset's first 40 with its label", i).isTrue();
        }
        if (format.equals("images")) {
            assertThat(exported.shape().input()).isEqualTo(InputShape.image(1, 28, 28));
            assertThat(exported.classNames()).startsWith("0-t-shirt", "1-trouser");
        } else {
            assertThat(exported.shape().input()).isEqualTo(InputShape.features(784));
        }
    }
}
