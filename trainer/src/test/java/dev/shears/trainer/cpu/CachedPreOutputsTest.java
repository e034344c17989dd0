package dev.shears.trainer.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.recipe.Augmentation;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.Subset;
import dev.shears.trainer.model.Models;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Nesterovs;

/** Dense layers that keep their pre-activations: DL4J's numbers to the bit, DL4J's layers where they must. */
class CachedPreOutputsTest {
    static Batches batches;

    @BeforeAll
    static void data() {
        CpuAcceleration.enable();
        // as the trainer fed LeNet-5 before it took images: flat vectors, standardised with Fashion-MNIST's figures
        batches = Batches.shuffled(Subset.load().trainExamples().flat(), Subset.standard(784), 64, 11,
                Augmentation.NONE);
    }

    @Test
    void leNet5TrainsToDl4jsParametersAndScoresToTheBit() {
        MultiLayerNetwork dl4j = Models.lenet5(3, new Nesterovs(0.01, 0.9), 5e-4);
        MultiLayerNetwork shears = dl4j.clone();
        for (MultiLayerNetwork n : new MultiLayerNetwork[]{dl4j, shears}) {
            n.getLayerWiseConfigurations().setCacheMode(CacheMode.DEVICE);
            n.setCacheMode(CacheMode.DEVICE);
        }
        assertThat(CachedPreOutputs.install(shears)).as("fc1, fc2").isEqualTo(2);
        assertThat(CachedPreOutputs.install(shears)).as("idempotent").isEqualTo(2);
        assertThat(CachedPreOutputs.installed(shears.getLayer("fc1"))).as("found by name too").isTrue();
        assertThat(CachedPreOutputs.installed(dl4j.getLayer(4))).as("the original keeps DL4J's").isFalse();
        assertThat(shears.getLayer(4).getParam("W")).as("the same parameter views")
                .isSameAs(shears.paramTable().get("4_W"));

        for (int i = 0; i < 5; i++) {
            DataSet batch = batches.next();
            dl4j.fit(batch);
            shears.fit(batch);
            assertThat(shears.score()).as("score %d", i).isEqualTo(dl4j.score());
        }
        assertThat(CachedPreOutputs.reuses(shears.getLayer(4))).as("fc1: once an iteration").isEqualTo(5);
        assertThat(CachedPreOutputs.reuses(shears.getLayer(5))).as("fc2").isEqualTo(5);
        assertThat(CachedPreOutputs.installed(shears.getLayer(6))).as("the output layer keeps DL4J's").isFalse();
        assertThat(shears.params()).isEqualTo(dl4j.params());
        assertThat(shears.getUpdater().getStateViewArray()).isEqualTo(dl4j.getUpdater().getStateViewArray());
        DataSet test = batches.next();
        assertThat(shears.output(test.getFeatures(), false)).isEqualTo(dl4j.output(test.getFeatures(), false));
        assertThat(shears.clone().getLayer(4)).as("a clone has DL4J's layers again")
                .matches(l -> !CachedPreOutputs.installed(l));
    }

    @Test
    void withoutAForwardCacheNothingIsKeptAndNothingChanges() {
        MultiLayerNetwork dl4j = Models.lenet300100(4, new Nesterovs(0.01, 0.9), 0);
        MultiLayerNetwork shears = dl4j.clone();
        CachedPreOutputs.install(shears);
        for (int i = 0; i < 3; i++) {
            DataSet batch = batches.next();
            batch = new DataSet(batch.getFeatures().reshape(batch.numExamples(), 784), batch.getLabels());
            dl4j.fit(batch);
            shears.fit(batch);
        }
        assertThat(shears.params()).isEqualTo(dl4j.params());
        assertThat(CachedPreOutputs.reuses(shears.getLayer(0))).isZero();
    }

    @Test
    void layersWithDropoutKeepDl4jsClass() {
        MultiLayerNetwork net = InputLayerGradientsTest.network(
                new DenseLayer.Builder().nOut(16).activation(Activation.RELU).dropOut(new Dropout(0.5)).build(),
                new DenseLayer.Builder().nOut(8).activation(Activation.TANH).build());
        assertThat(CachedPreOutputs.install(net)).as("the tanh layer").isEqualTo(1);
        assertThat(CachedPreOutputs.installed(net.getLayer(0))).isFalse();
    }
}
