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
import dev.shears.common.data.InputShape;
import java.util.Arrays;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.learning.config.Sgd;

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

    /**
     * ReLU6's gradient: DL4J's values at and around both kinks, at infinities and NaN, and on random values (the one
     * difference in bits: a zero gradient times a negative dL/da is -0.0 here, +0.0 in DL4J).
     */
    @Test
    void theReLU6GradientIsDl4jsToTheBit() {
        INDArray z = Nd4j.randn(DataType.FLOAT, 64, 6, 24, 24).muli(4).addi(3);
        float[] edges = {0f, 6f, -0f, Math.nextUp(0f), Math.nextDown(0f), Math.nextDown(6f), Math.nextUp(6f), 5.9999f,
                Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN, Float.MAX_VALUE, -Float.MAX_VALUE, 1e-30f};
        for (int i = 0; i < edges.length; i++) {
            z.putScalar(i, edges[i]);
        }
        INDArray epsilon = Nd4j.randn(DataType.FLOAT, 64, 6, 24, 24);
        INDArray expected = new ActivationReLU6().backprop(z.dup(), epsilon.dup()).getFirst();
        INDArray actual = new ReluGradients.Relu6().backprop(z.dup(), epsilon.dup()).getFirst();
        // equal values everywhere; where the gradient is 0 and dL/da negative this one is -0.0 (a product), DL4J's +0.0
        assertThat(actual.sub(expected).amaxNumber().doubleValue()).isZero();
        assertThat(actual.isNaN().any()).isFalse();
        assertThat(actual.getDouble(1)).as("at 6: no gradient, as in DL4J").isZero();
        assertThat(actual.getDouble(7)).as("just under 6").isEqualTo(epsilon.getDouble(7));
    }

    @Test
    void aMobileNetsReLU6LayersTrainToDl4jsParametersAndAreWrittenAsDl4jsReLU6() throws Exception {
        ComputationGraph dl4j = Models.mobilenetv2(0.25, InputShape.FASHION_MNIST, 10, 5, new Sgd(0.05), 1e-4);
        ComputationGraph shears = dl4j.clone();
        int relu6 = ReluGradients.install(shears);
        assertThat(relu6).as("every ReLU6 of the inverted residuals and the stem and head").isGreaterThan(30);
        assertThat(Arrays.stream(shears.getLayers()).filter(l -> activationOf(l) instanceof ReluGradients.Relu6)
                .count()).isEqualTo(relu6);
        assertThat(Arrays.stream(dl4j.getLayers()).map(ReluGradientsTest::activationOf))
                .as("the original is untouched").noneMatch(ReluGradients.Relu6.class::isInstance);

        INDArray images = batch.getFeatures().reshape(batch.getFeatures().size(0), 1, 28, 28);
        for (int i = 0; i < 2; i++) {
            for (ComputationGraph g : new ComputationGraph[]{dl4j, shears}) {
                Nd4j.getRandom().setSeed(100 + i); // the same dropout mask for both, as a job seeds each iteration
                g.fit(new DataSet(images, batch.getLabels()));
            }
        }
        assertThat(shears.params().sub(dl4j.params()).amaxNumber().doubleValue()).isZero();

        assertThat(shears.getConfiguration().toJson()).isEqualTo(dl4j.getConfiguration().toJson());
        ByteArrayOutputStream zip = new ByteArrayOutputStream();
        ModelSerializer.writeModel(shears, zip, false);
        ComputationGraph restored = ModelSerializer
                .restoreComputationGraph(new ByteArrayInputStream(zip.toByteArray()));
        assertThat(Arrays.stream(restored.getLayers()).map(ReluGradientsTest::activationOf))
                .noneMatch(ReluGradients.Relu6.class::isInstance).anyMatch(ActivationReLU6.class::isInstance);
    }

    private static org.nd4j.linalg.activations.IActivation activationOf(org.deeplearning4j.nn.api.Layer layer) {
        org.deeplearning4j.nn.conf.layers.Layer conf = layer.conf().getLayer();
        return conf instanceof BaseLayer base ? base.getActivationFn()
                : conf instanceof org.deeplearning4j.nn.conf.layers.ActivationLayer a ? a.getActivationFn() : null;
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
