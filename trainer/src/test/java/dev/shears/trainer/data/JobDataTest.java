package dev.shears.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.data.InputShape;
import dev.shears.common.data.Normalization;
import dev.shears.common.recipe.Augmentation;
import dev.shears.common.recipe.DataSpec;
import dev.shears.common.recipe.ValidationSplit;
import dev.shears.trainer.model.Models;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

/** A job's data: the shared data set split, normalised and batched for the model, evaluated on both held-back splits. */
class JobDataTest {

    static final DataSpec SPEC = new DataSpec(Subset.NAME, ValidationSplit.count(200), Optional.empty(),
            Optional.empty(), Augmentation.NONE);

    static JobData open(Optional<Normalization> stored) {
        return JobData.open(SPEC, 7, 64, Subset.inputs().data(), stored);
    }

    @Test
    void itIsShapedByTheDataAndHoldsTheValidationSplitOutOfTheTrainingFiles() {
        JobData data = open(Optional.empty());

        assertThat(data.shape().input()).isEqualTo(InputShape.image(1, 28, 28));
        assertThat(data.shape().classes()).isEqualTo(10);
        assertThat(data.partition().train().size()).isEqualTo(1800);
        assertThat(data.partition().validation().size()).isEqualTo(200);
        assertThat(data.partition().test().size()).isEqualTo(500);
        assertThat(data.batches().next().getFeatures().shape()).containsExactly(64, 1, 28, 28);
        assertThat(data.probe(256).shape()).containsExactly(256, 1, 28, 28);
        assertThat(data)
                .hasToString("fashion-mnist-subset: 1x28x28, 10 classes; 1,800 train, 200 validation, 500 test");
    }

    @Test
    void aStoredNormalisationFeedsTheDataAsBeforeWhateverTheDataMeasuresNow() {
        Normalization stored = Normalization.uniform(1, 0.5, 0.25);
        JobData measured = open(Optional.empty());
        JobData resumed = open(Optional.of(stored));

        assertThat(measured.normalization()).isNotEqualTo(stored);
        assertThat(resumed.normalization()).isEqualTo(stored);
        DataSet batch = resumed.batches().next();
        DataSet raw = JobData.open(SPEC, 7, 64, Subset.inputs().data(), Optional.of(Normalization.uniform(1, 0, 1)))
                .batches().next();
        assertThat(batch.getFeatures()).isEqualTo(raw.getFeatures().sub(0.5).div(0.25));
    }

    @Test
    void aStoredNormalisationOfAnotherChannelCountIsRefusedNamingTheDataSet() {
        assertThatThrownBy(() -> open(Optional.of(Normalization.uniform(3, 0.5, 0.25))))
                .isInstanceOf(DatasetException.class).hasMessageContaining("data set fashion-mnist-subset")
                .hasMessageContaining("fix:");
    }

    @Test
    void bothLeNetsTrainAndAreEvaluatedOnTheValidationAndTheTestSplit() {
        JobData data = open(Optional.empty());
        for (MultiLayerNetwork net : List.of(
                Models.lenet5(data.shape().input(), data.shape().classes(), 1, new Adam(0.001), 0),
                Models.lenet300100(data.shape().input(), data.shape().classes(), 1, new Adam(0.001), 0))) {
            for (int i = 0; i < 40; i++) {
                net.fit(data.batches().next());
            }
            Evaluation eval = data.evaluate(net);

            assertThat(eval.validation().samples()).isEqualTo(200);
            assertThat(eval.test().samples()).isEqualTo(500);
            String name = net.getLayer(0).conf().getLayer().getLayerName();
            assertThat(eval.accuracy()).as("%s validation accuracy", name).isGreaterThan(0.3);
            assertThat(eval.testAccuracy()).as("%s test accuracy", name).isGreaterThan(0.3);
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void itsInputContractSaysHowToFeedTheModel() {
        JobData data = open(Optional.empty());

        Map<String, Object> contract = data.inputContract();

        assertThat(contract).containsEntry("dataset", Subset.NAME).containsEntry("layout", "NCHW")
                .containsEntry("shape", List.of(1, 28, 28)).containsEntry("dtype", "float32")
                .containsEntry("classes", 10);
        assertThat((Map<String, Object>) contract.get("normalization"))
                .containsEntry("mean", data.normalization().mean()).containsEntry("std", data.normalization().std());
        assertThat((List<String>) contract.get("classNames")).hasSize(10);
        assertThat((String) contract.get("values")).contains("pixels scaled to [0, 1]");
    }
}
