package dev.shears.trainer.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.recipe.DataSpec;
import dev.shears.common.recipe.Recipe;
import dev.shears.trainer.data.Subset;
import dev.shears.trainer.job.Progress;
import dev.shears.trainer.sensitivity.Sensitivity;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SensitivityCommandTest {
    @TempDir
    Path dir;

    @Test
    void trainsTheDenseResNetOnceThenReportsEveryGroupsCurveAndTargets() throws Exception {
        Recipe r = Recipe.load(Path.of("src/test/resources/recipes/quick-resnet.yaml"));
        Recipe recipe = new Recipe(r.job(), r.model(), DataSpec.named(Subset.NAME),
                r.training(), r.pruning(), r.schedule(), r.fineTune(), r.accuracyBudget(), r.checkpoints(),
                r.publish());
        ByteArrayOutputStream text = new ByteArrayOutputStream();
        PrintStream out = new PrintStream(text, true, StandardCharsets.UTF_8);

        Sensitivity.Files files = SensitivityCommand.run(recipe, dir, Subset.inputs(), List.of(0.5, 0.9), 0.5,
                Progress.silent(), out);

        assertThat(text.toString(StandardCharsets.UTF_8)).contains("dense accuracy").contains("layer3.0.conv2")
                .contains("targets for a total of 50.00%");
        assertThat(Files.size(files.chart())).isPositive();
        assertThat(dir.resolve("checkpoints")).isDirectory();

        // a second run finds the dense model's checkpoint and does not train again
        ByteArrayOutputStream again = new ByteArrayOutputStream();
        SensitivityCommand.run(recipe, dir, Subset.inputs(), List.of(0.5, 0.9), 0.5, Progress.silent(),
                new PrintStream(again, true, StandardCharsets.UTF_8));
        assertThat(Files.readString(files.json())).isNotEmpty();
        try (var ckpts = Files.list(dir.resolve("checkpoints"))) {
            assertThat(ckpts.filter(Files::isDirectory).count()).isOne();
        }
    }
}
