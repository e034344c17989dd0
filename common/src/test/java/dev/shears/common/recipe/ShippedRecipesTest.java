package dev.shears.common.recipe;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.schedule.Schedule;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** The example recipes shipped with the trainer ({@code -Dshears.recipes=DIR} to check another folder). */
class ShippedRecipesTest {

    static final Path DIR = Path.of(System.getProperty("shears.recipes", "../trainer/src/main/resources/recipes"));

    static Stream<Path> shipped() throws IOException {
        try (Stream<Path> files = Files.list(DIR)) {
            List<Path> yaml = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
            assertThat(yaml).as("recipes in %s", DIR.toAbsolutePath()).isNotEmpty();
            return yaml.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shipped")
    void everyShippedRecipeLoadsAndRoundTrips(Path file) throws IOException {
        Recipe recipe = Recipe.load(file);

        assertThat(file.getFileName().toString()).isEqualTo(recipe.job() + ".yaml");
        assertThat(Recipe.parse(recipe.toYaml())).isEqualTo(recipe);
        assertThat(Schedule.of(recipe.schedule()).finalSparsity()).isEqualTo(recipe.schedule().finalSparsity());
    }

    @Test
    void theCubicLenet5RecipeIsTheOneDescribed() throws IOException {
        Recipe r = Recipe.load(DIR.resolve("lenet5-fmnist-90.yaml"));

        assertThat(r.model()).isEqualTo(ModelSource.LENET5);
        assertThat(r.training().denseEpochs()).isEqualTo(3);
        assertThat(r.training().batchSize()).isEqualTo(64);
        assertThat(r.training().updater()).isEqualTo(Training.Updater.NESTEROVS);
        assertThat(r.training().learningRate()).isEqualTo(0.01);
        assertThat(r.training().momentum()).hasValue(0.9);
        assertThat(r.pruning().parameters()).containsExactly("conv*.weight", "fc*.weight");
        assertThat(r.pruning().method()).isEqualTo(PruningSpec.Method.L1_UNSTRUCTURED);
        assertThat(r.pruning().scope()).isEqualTo(PruningSpec.Scope.GLOBAL);
        assertThat(r.schedule()).isEqualTo(ScheduleSpec.polynomial(0.0, 0.9, 10, 3));
        assertThat(r.fineTune().iterationsPerStep()).isEqualTo(469);
    }

    @Test
    void theStructuredLenet5RecipeIsTheOneDescribed() throws IOException {
        Recipe r = Recipe.load(DIR.resolve("lenet5-fmnist-structured.yaml"));

        assertThat(r.pruning().parameters()).containsExactly("conv1.weight", "conv2.weight", "fc1.weight",
                "fc2.weight");
        assertThat(r.pruning().method()).isEqualTo(PruningSpec.Method.LN_STRUCTURED);
        assertThat(r.pruning().norm()).hasValue("2");
        assertThat(r.pruning().dim()).hasValue(0);
        assertThat(r.pruning().scope()).isEqualTo(PruningSpec.Scope.LOCAL);
        assertThat(r.schedule()).isEqualTo(ScheduleSpec.linear(0.0, 0.5, 5));
    }

    @Test
    void theLotteryRecipeIsTheOneDescribed() throws IOException {
        Recipe r = Recipe.load(DIR.resolve("lenet300100-lottery.yaml"));

        assertThat(r.model()).isEqualTo(ModelSource.LENET300100);
        assertThat(r.pruning().parameters()).containsExactly("fc*.weight");
        assertThat(r.schedule()).isEqualTo(ScheduleSpec.lotteryTicket(0.9, 0.2, 500));
        assertThat(Schedule.of(r.schedule()).steps()).isEqualTo(11);
    }
}
