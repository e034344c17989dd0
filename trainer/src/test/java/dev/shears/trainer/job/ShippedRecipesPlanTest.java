package dev.shears.trainer.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.shears.common.data.InputShape;
import dev.shears.common.recipe.Recipe;
import dev.shears.common.schedule.Schedule;
import dev.shears.prune.Compaction;
import dev.shears.prune.Pruning;
import dev.shears.trainer.train.PruningPlan;
import dev.shears.trainer.model.Models;
import dev.shears.trainer.model.TrainableModel;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Every shipped recipe fits the network it names: the model is built for Fashion-MNIST, the plan selects what the
 * recipe means, the final target is reached exactly, and a structured recipe's result compacts to a smaller model
 * with the masked model's outputs. No training: the shapes and the plan are what is checked.
 */
class ShippedRecipesPlanTest {
    static final Path DIR = Path.of("src/main/resources/recipes");
    static final int FASHION_MNIST_CLASSES = 10;

    static Stream<Path> shipped() throws IOException {
        try (Stream<Path> files = Files.list(DIR)) {
            List<Path> yaml = files.filter(f -> f.toString().endsWith(".yaml")).sorted().toList();
            return yaml.stream();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("shipped")
    void theFinalTargetIsReachedOnTheRecipesModelAndStructuredResultsCompact(Path file) throws IOException {
        Recipe recipe = Recipe.load(file);
        InputShape shape = InputShape.FASHION_MNIST;
        TrainableModel model = TrainableModel.of(Models.create(recipe.model(), shape, FASHION_MNIST_CLASSES, 1,
                JobSession.updater(recipe.training()), recipe.training().weightDecay()), shape);
        Pruning pruning = model.newPruning();
        double target = Schedule.of(recipe.schedule()).finalSparsity();
        PruningPlan plan = new PruningPlan(recipe.pruning(), target, model.model(), pruning, 1);

        plan.apply(pruning, target, 1);

        double tolerance = recipe.pruning().byDependencyGroups() ? 0.02 : 1e-6; // whole channels, minChannels
        assertThat(plan.achieved(pruning)).isEqualTo(target, within(tolerance));
        if (!recipe.pruning().byDependencyGroups()) {
            return;
        }
        assertThat(plan.groups()).as("groups pruned").isNotEmpty();
        Nd4j.getRandom().setSeed(1);
        INDArray x = Nd4j.rand(DataType.FLOAT, 4, shape.size());
        INDArray masked = model.output(x);
        pruning.removeAll();
        Compaction.Result small = model.compact();
        assertThat(small.parametersAfter()).isLessThan(small.parametersBefore() * 2 / 5);
        INDArray compacted = model.with(small.model()).output(x);
        assertThat(compacted.sub(masked).amaxNumber().doubleValue()).isLessThan(1e-4);
    }
}
