package dev.shears.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.prune.Amount;
import dev.shears.prune.Pruning;
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
        assertPrunedAreZero(net, masks);
        INDArray before = net.params().dup();

        // The updater state of pruned entries must be zero: with masked gradients alone (no
        // re-masking of the parameters), further steps must leave every pruned weight at zero.
        net.setListeners(new BaseTrainingListener() {
            @Override
            public void onGradientCalculation(Model model) {
                masks.forEach((key, mask) -> model.gradient().getGradientFor(key).muli(mask));
            }
        });
        for (int i = 0; i < 3; i++) {
            net.fit(data);
        }
        assertPrunedAreZero(net, masks);
        assertThat(net.params()).as("training still changes the unpruned weights").isNotEqualTo(before);
    }

    private static void assertPrunedAreZero(MultiLayerNetwork net, Map<String, INDArray> masks) {
        assertThat(masks).containsOnlyKeys("0_W", "1_W", "2_W");
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
