package dev.shears.trainer.cpu;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.common.recipe.Augmentation;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.Subset;
import dev.shears.trainer.model.Models;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.util.Map;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

/** ReLU's faster back-propagation: DL4J's numbers, DL4J's JSON, and only where the ReLU is the plain one. */
class ReluGradientsTest {
    static DataSet batch;

    @BeforeAll
    static void data() {
        // as the trainer fed LeNet-5 before it took images: flat vectors, standardised with Fashion-MNIST's figures
        batch = Batches.shuffled(Subset.load().trainExamples().flat(), Subset.standard(784), 64, 11,
                Augmentation.NONE).next();
    }

    @Test
    void theGradientIsDl4jsToTheBit() {
        INDArray z = Nd4j.randn(DataType.FLOAT, 64, 6, 24, 24);
        z.putScalar(0, 0f); // the kink: no gradient, as in DL4J
        INDArray epsilon = Nd4j.randn(DataType.FLOAT, 64, 6, 24, 24);
        INDArray expected = new ActivationReLU().backprop(z.dup(), epsilon.dup()).getFirst();
        INDArray actual = new ReluGradients.Relu().backprop(z.dup(), epsilon.dup()).getFirst();
        assertThat(actual.sub(expected).amaxNumber().doubleValue()).isZero();
        assertThat(actual.getDouble(0)).isZero();
    }

    @Test
    void leNet5TrainsToTheSameParametersAndIsWrittenAsDl4jsReLU() throws Exception {
        MultiLayerNetwork dl4j = Models.lenet5(3, new Nesterovs(0.01, 0.9), 5e-4);
        MultiLayerNetwork shears = dl4j.clone();
        assertThat(ReluGradients.install(shears)).as("conv1, conv2, fc1, fc2").isEqualTo(4);
        assertThat(ReluGradients.install(shears)).as("idempotent").isEqualTo(4);
        assertThat(activation(dl4j, 0)).as("the original is untouched").isExactlyInstanceOf(ActivationReLU.class);
        assertThat(activation(shears, 0)).isInstanceOf(ReluGradients.Relu.class);

        for (int i = 0; i < 4; i++) {
            dl4j.fit(batch);
            shears.fit(batch);
        }
        assertThat(shears.params().sub(dl4j.params()).amaxNumber().doubleValue()).isZero();
        Map<String, INDArray> expected = gradients(dl4j);
        Map<String, INDArray> actual = gradients(shears);
        for (String k : expected.keySet()) {
            assertThat(actual.get(k).sub(expected.get(k)).amaxNumber().doubleValue()).as("gradient %s", k).isZero();
        }

        assertThat(shears.getLayerWiseConfigurations().toJson()).isEqualTo(dl4j.getLayerWiseConfigurations().toJson());
        assertThat(shears.getLayerWiseConfigurations()).isEqualTo(dl4j.getLayerWiseConfigurations());
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        ModelSerializer.writeModel(shears, zip, true);
        MultiLayerNetwork restored = ModelSerializer
                .restoreMultiLayerNetwork(new ByteArrayInputStream(zip.toByteArray()));
        for (int l : new int[]{0, 2, 4, 5}) { // conv1, conv2, fc1, fc2
            assertThat(activation(restored, l)).isExactlyInstanceOf(ActivationReLU.class);
        }
        assertThat(restored.params()).isEqualTo(shears.params());
    }

    @Test
    void aReLUWithACapOrASlopeKeepsDl4jsPath() {
        MultiLayerNetwork capped = network(new ActivationReLU(6.0, null, null));
        MultiLayerNetwork leaky = network(new ActivationReLU(null, null, 0.1));
        MultiLayerNetwork tanh = network(Activation.TANH.getActivationFunction());
        for (MultiLayerNetwork net : new MultiLayerNetwork[]{capped, leaky, tanh}) {
            assertThat(ReluGradients.install(net)).isZero();
        }
        assertThat(activation(capped, 0)).isExactlyInstanceOf(ActivationReLU.class);
    }

    private static org.nd4j.linalg.activations.IActivation activation(MultiLayerNetwork net, int layer) {
        return ((BaseLayer) net.getLayer(layer).conf().getLayer()).getActivationFn();
    }

    private static Map<String, INDArray> gradients(MultiLayerNetwork net) {
        net.setInput(batch.getFeatures());
        net.setLabels(batch.getLabels());
        net.computeGradientAndScore();
        return net.gradient().gradientForVariable();
    }

    private static MultiLayerNetwork network(org.nd4j.linalg.activations.IActivation activation) {
        return InputLayerGradientsTest.network(new DenseLayer.Builder().nOut(16).activation(activation).build());
    }
}
