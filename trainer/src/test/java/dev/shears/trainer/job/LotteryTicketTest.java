package dev.shears.trainer.job;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.recipe.FineTune;
import dev.shears.common.recipe.PruningSpec;
import dev.shears.common.recipe.Recipe;
import dev.shears.common.recipe.ScheduleSpec;
import dev.shears.trainer.checkpoint.StepResult;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.OptionalInt;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class LotteryTicketTest {

    @TempDir
    Path out;

    @Test
    void rewindsTheSurvivorsToTheirValuesAtTheRewindIteration() throws Exception {
        Recipe q = TrainJobTest.quick();
        Recipe recipe = new Recipe(q.job(), q.model(), q.data(), q.training(),
                new PruningSpec(List.of("fc*.weight"), List.of(), PruningSpec.Method.L1_UNSTRUCTURED, Optional.empty(),
                        OptionalInt.empty(), Optional.empty(), PruningSpec.Scope.GLOBAL),
                ScheduleSpec.lotteryTicket(0.5, 0.3, 10), new FineTune(0), q.accuracyBudget(), q.checkpoints(),
                q.publish());
        TrainJob.Summary summary = TrainJobTest.run(recipe, out, new ByteArrayOutputStream());

        assertThat(summary.steps()).extracting(StepResult::seq).containsExactly(0, 1, 2);
        assertThat(summary.steps().get(2).achievedSparsity()).isEqualTo(0.5, org.assertj.core.data.Offset.offset(1e-4));
        // With no retraining after the last rewind, every surviving weight is its value at iteration 10.
        MultiLayerNetwork published = ModelSerializer.restoreMultiLayerNetwork(summary.publication().model().toFile());
        for (String layer : List.of("fc2", "fc3")) {
            INDArray rewound = Nd4j.readBinary(out.resolve("rewind/" + layer + ".weight.bin").toFile());
            INDArray now = published.getLayer(layer).getParam("W").transpose(); // PyTorch layout [out, in]
            INDArray kept = now.neq(0).castTo(rewound.dataType());
            assertThat(now).isEqualTo(rewound.mul(kept));
            assertThat(kept.sumNumber().doubleValue()).isGreaterThan(0);
        }
    }
}
