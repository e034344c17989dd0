package dev.shears.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.data.InputShape;
import dev.shears.prune.Amount;
import dev.shears.prune.ChannelLimits;
import dev.shears.prune.GroupImportance;
import dev.shears.prune.Pruning;
import dev.shears.trainer.model.Models;
import dev.shears.trainer.model.TrainableModel;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class MaskedTrainingTest {

    @Test
    void prunedWeightsAndTheirMomentumStayExactlyZeroUnderSgdWithMomentum() {
        checkPrunedStayZero(new Nesterovs(0.05, 0.9), 0);
    }

    @Test
    void prunedWeightsAndTheirMomentsStayExactlyZeroUnderAdam() {
        checkPrunedStayZero(new Adam(0.01), 0);
    }

    @Test
    void prunedWeightsStayExactlyZeroUnderWeightDecay() {
        checkPrunedStayZero(new Nesterovs(0.05, 0.9), 0.01);
    }

    private static void checkPrunedStayZero(IUpdater updater, double weightDecay) {
        MultiLayerNetwork net = network(updater, weightDecay);
        DataSet data = randomData();
        for (int i = 0; i < 5; i++) {
            net.fit(data); // dense: the updater state fills up
        }
        Pruning pruning = Pruning.of(net);
        pruning.globalUnstructured(List.of("conv.weight", "fc.weight", "out.weight"), Amount.fraction(0.6));
        MaskedTraining masked = new MaskedTraining(pruning);
        net.setListeners(masked);
        for (int i = 0; i < 10; i++) {
            net.fit(data);
        }
        Map<String, INDArray> masks = pruning.masksInModelLayout();
        assertThat(masks).containsOnlyKeys("0_W", "1_W", "2_W");
        assertPrunedAreZero(net, masks);
        INDArray before = net.params().dup();

        // The updater state of pruned entries must be zero: with masked gradients alone (no
        // re-masking of the parameters), further steps must leave every pruned weight at zero.
        net.setListeners(maskingGradientsOnly(masks));
        for (int i = 0; i < 3; i++) {
            net.fit(data);
        }
        assertPrunedAreZero(net, masks);
        assertThat(net.params()).as("training still changes the unpruned weights").isNotEqualTo(before);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"nesterovs", "adam"})
    void aGraphPrunedByDependencyGroupsKeepsItsPrunedChannelsAndTheirUpdaterStateAtZero(String updaterName) {
        IUpdater updater = updaterName.equals("adam") ? new Adam(0.01) : new Nesterovs(0.05, 0.9);
        InputShape shape = InputShape.image(1, 8, 8);
        TrainableModel model = TrainableModel.of(Models.resnet(8, 4, shape, 3, 11, updater, 1e-4), shape);
        DataSet data = randomData();
        for (int i = 0; i < 5; i++) {
            model.fit(data, 1, i); // dense: the updater state fills up
        }
        Pruning pruning = model.newPruning();
        pruning.globalGroupStructured(model.dependencyGroups().prunable(), Amount.fraction(0.5),
                GroupImportance.L2, ChannelLimits.KEEP_ONE);
        model.setListeners(new MaskedTraining(pruning));
        for (int i = 5; i < 15; i++) {
            model.fit(data, 1, i);
        }
        Map<String, INDArray> masks = pruning.masksInModelLayout();
        assertThat(masks).containsKeys("conv1_W", "bn1_gamma", "layer1.0.conv2_W", "fc_W");
        assertPrunedAreZero(model.model(), masks);

        // with masked gradients alone, the zeroed updater state must keep every pruned entry at zero
        model.setListeners(maskingGradientsOnly(masks));
        INDArray before = model.params().dup();
        for (int i = 15; i < 18; i++) {
            model.fit(data, 1, i);
        }
        assertPrunedAreZero(model.model(), masks);
        assertThat(model.params()).as("training still changes the unpruned weights").isNotEqualTo(before);
    }

    private static BaseTrainingListener maskingGradientsOnly(Map<String, INDArray> masks) {
        return new BaseTrainingListener() {
            @Override
            public void onGradientCalculation(Model model) {
                masks.forEach((key, mask) -> model.gradient().getGradientFor(key).muli(mask));
            }
        };
    }

    private static void assertPrunedAreZero(Model net, Map<String, INDArray> masks) {
        masks.forEach((key, mask) -> {
            INDArray pruned = net.getParam(key).mul(mask.rsub(1.0));
            assertThat(pruned.amaxNumber().doubleValue()).as("largest |pruned entry| of %s", key).isZero();
        });
    }

    static MultiLayerNetwork network(IUpdater updater, double weightDecay) {
        NeuralNetConfiguration.Builder b = new NeuralNetConfiguration.Builder().seed(11).updater(updater)
                .dataType(DataType.FLOAT);
        if (weightDecay > 0) {
            b.weightDecay(weightDecay);
        }
        MultiLayerConfiguration conf = b.list()
                .layer(new ConvolutionLayer.Builder(3, 3).name("conv").nOut(4).activation(Activation.RELU).build())
                .layer(new DenseLayer.Builder().name("fc").nOut(16).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).name("out").nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(8, 8, 1)).build();
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }

    static DataSet randomData() {
        Nd4j.getRandom().setSeed(3);
        INDArray features = Nd4j.rand(DataType.FLOAT, 32, 64);
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 32, 3);
        for (int i = 0; i < 32; i++) {
            labels.putScalar(i, i % 3, 1f);
        }
        return new DataSet(features, labels);
    }
}
