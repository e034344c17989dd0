package dev.shears.trainer.data;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.offset;

import dev.shears.common.data.Normalization;
import dev.shears.common.recipe.Augmentation;
import dev.shears.trainer.model.Models;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.evaluation.classification.Evaluation;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions.LossFunction;

class EvalResultTest {

    private static final Examples TEST = Subset.load().testExamples();
    private static final Normalization STANDARD = Subset.standard(1);

    @Test
    void accuracyAgreesWithDl4jsEvaluation() {
        MultiLayerNetwork net = Models.lenet300100(5, new Nesterovs(0.01, 0.9), 0);
        Batches train = Batches.shuffled(Subset.load().trainExamples(), STANDARD, 50, 5, Augmentation.NONE);
        for (int i = 0; i < 20; i++) {
            net.fit(train.next());
        }

        EvalResult result = EvalResult.evaluate(net, TEST, STANDARD, 128);
        Evaluation dl4j = net.evaluate(Batches.inOrder(TEST, STANDARD, 128).epoch(0));

        assertThat(result.samples()).isEqualTo(500);
        assertThat(result.accuracy()).isEqualTo(dl4j.accuracy());
        assertThat(result.accuracy()).isGreaterThan(0.3);
    }

    @Test
    void meanLossIsDl4jsScoreWithoutRegularization() {
        MultiLayerNetwork net = Models.lenet5(5, new Nesterovs(0.01, 0.9), 1e-2);
        DataSet whole = Batches.inOrder(TEST, STANDARD, TEST.size()).next();

        double score = net.score(whole, false) - net.calcRegularizationScore(true);

        assertThat(EvalResult.evaluate(net, TEST, STANDARD, 128).meanLoss()).isCloseTo(score, offset(1e-5));
    }

    @Test
    void aComputationGraphIsEvaluatedAsItsLayeredTwin() {
        MultiLayerNetwork net = Models.lenet5(5, new Nesterovs(0.01, 0.9), 0);

        EvalResult layered = EvalResult.evaluate(net, TEST, STANDARD, 1000);
        EvalResult graph = EvalResult.evaluate(net.toComputationGraph(), TEST, STANDARD, 1000);

        assertThat(graph.correct()).isEqualTo(layered.correct());
        assertThat(graph.meanLoss()).isCloseTo(layered.meanLoss(), offset(1e-6));
    }

    @Test
    void aModelWithoutTenOutputsIsRejected() {
        MultiLayerNetwork fiveClasses = new MultiLayerNetwork(new NeuralNetConfiguration.Builder()
                .dataType(DataType.FLOAT).list()
                .layer(new OutputLayer.Builder(LossFunction.MCXENT).nIn(784).nOut(5)
                        .activation(Activation.SOFTMAX).build())
                .build());
        fiveClasses.init();

        assertThatThrownBy(() -> EvalResult.evaluate(fiveClasses, TEST.flat(), Subset.standard(784), 100))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(
                        "the model outputs [100, 5] for 100 examples, expected [100, 10]: the data set has 10 classes");
    }

    @Test
    void accuracyIsTheFractionCorrect() {
        assertThat(new EvalResult(8, 6, 0.5).accuracy()).isEqualTo(0.75);
        assertThatThrownBy(() -> new EvalResult(8, 9, 0.5)).isInstanceOf(IllegalArgumentException.class);
    }
}
