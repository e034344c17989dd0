package dev.shears.trainer.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.recipe.Augmentation;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.Subset;
import dev.shears.trainer.model.Models;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Nesterovs;

/** The updater without the empty regularization pass: DL4J's parameters and updater state to the bit. */
class UpdaterBlocksTest {
    static DataSet batch;

    @BeforeAll
    static void data() {
        batch = Batches.shuffled(Subset.load().trainExamples(), Subset.standard(1), 64, 17, Augmentation.NONE).next();
    }

    @Test
    void withoutWeightDecayEveryBlockSkipsThePassAndTrainsToDl4jsParametersAndState() {
        MultiLayerNetwork dl4j = Models.lenet5(3, new Nesterovs(0.01, 0.9), 0);
        MultiLayerNetwork shears = dl4j.clone();
        int blocks = ((BaseMultiLayerUpdater<?>) shears.getUpdater(true)).getUpdaterBlocks().size();
        assertThat(UpdaterBlocks.skipEmptyRegularization(shears)).isEqualTo(blocks).isPositive();
        assertThat(UpdaterBlocks.skipEmptyRegularization(shears)).as("idempotent").isEqualTo(blocks);

        for (int i = 0; i < 4; i++) {
            dl4j.fit(batch);
            shears.fit(batch);
        }
        assertThat(shears.params().sub(dl4j.params()).amaxNumber().doubleValue()).isZero();
        assertThat(shears.getUpdater().getStateViewArray()).isEqualTo(dl4j.getUpdater().getStateViewArray());
    }

    @Test
    void withWeightDecayTheBlocksStayDl4jsAndStillDecay() {
        MultiLayerNetwork dl4j = Models.lenet5(3, new Nesterovs(0.01, 0.9), 5e-2);
        MultiLayerNetwork shears = dl4j.clone();
        assertThat(UpdaterBlocks.skipEmptyRegularization(shears)).isZero();
        MultiLayerNetwork undecayed = Models.lenet5(3, new Nesterovs(0.01, 0.9), 0);
        for (int i = 0; i < 2; i++) {
            dl4j.fit(batch);
            shears.fit(batch);
            undecayed.fit(batch);
        }
        assertThat(shears.params()).isEqualTo(dl4j.params());
        assertThat(shears.params().sub(undecayed.params()).amaxNumber().doubleValue()).as("the decay applied")
                .isPositive();
    }
}
