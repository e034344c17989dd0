package dev.shears.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.data.Normalization;
import dev.shears.common.recipe.Augmentation;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.EvalResult;
import dev.shears.trainer.data.LoadedDataset;
import dev.shears.trainer.data.Subset;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.Nesterovs;

/** End to end on the committed subset: data, model and evaluation fit together and learn. */
class LeNet5LearnsTest {

    @Test
    void lenet5ReachesSixtyPercentOnTheSubsetAfterTwoEpochs() {
        LoadedDataset data = Subset.load();
        Normalization standard = Subset.standard(1); // as the trainer feeds it
        MultiLayerNetwork net = Models.lenet5(42, new Nesterovs(0.01, 0.9), 0);
        Batches batches = Batches.shuffled(data.trainExamples(), standard, 32, 42, Augmentation.NONE);
        EvalResult before = EvalResult.evaluate(net, data.testExamples(), standard, 1000);

        while (batches.position().epoch() < 2) {
            net.fit(batches.next());
        }
        EvalResult after = EvalResult.evaluate(net, data.testExamples(), standard, 1000);

        assertThat(before.accuracy()).as("untrained: %s", before).isLessThan(0.3);
        assertThat(after.accuracy()).as("after two epochs: %s", after).isGreaterThan(0.6);
        assertThat(after.meanLoss()).as("after two epochs: %s", after).isLessThan(before.meanLoss());
    }
}
