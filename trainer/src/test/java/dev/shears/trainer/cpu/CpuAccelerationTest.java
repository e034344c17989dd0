package dev.shears.trainer.cpu;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.offset;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.LongFunction;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.mkldnn.BaseMKLDNNHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * oneDNN (DL4J's MKLDNN helpers, switched on by {@link CpuAcceleration#enable()}) against DL4J's built-in CPU code on
 * the same network, seed and batch: forward output, gradients, and parameters after a few Nesterovs steps.
 *
 * <p>The built-in side also turns ND4J's native platform helpers off ({@code allowHelpers(false)}), so that no oneDNN
 * kernel runs in it at all (libnd4j would otherwise use oneDNN inside its own pooling ops). The oneDNN side disallows
 * helper fallback, so a failing oneDNN call fails the test instead of quietly running the built-in code.
 *
 * <p>Skipped, with the reason, where ND4J has no oneDNN (the plain {@code linux-x86_64} classifier, the CUDA profile).
 */
class CpuAccelerationTest {

    private static final long SEED = 42;
    private static final int STEPS = 5;

    private static CpuAcceleration.Status status;

    @BeforeAll
    static void enable() {
        status = CpuAcceleration.enable();
    }

    @AfterEach
    void restoreOneDnn() {
        System.setProperty(CpuAcceleration.HELPERS_DISABLE_PROPERTY, String.valueOf(!status.oneDnn()));
        Nd4j.getEnvironment().allowHelpers(true);
    }

    private static void assumeOneDnnBuild() {
        assumeTrue(status.oneDnnBuild(), () -> "ND4J has no oneDNN here (" + status
                + "); the build's default nd4j classifier linux-x86_64-onednn has it");
    }

    @Test
    void enableSwitchesConvolutionAndPoolingToOneDnnAndSaysSo() {
        assumeOneDnnBuild();

        assertThat(status.oneDnn()).as(status.toString()).isTrue();
        assertThat(status.reason()).isNull();
        assertThat(status.convolution()).isEqualTo("oneDNN (MKLDNNConvHelper)");
        assertThat(status.pooling()).isEqualTo("oneDNN (MKLDNNSubsamplingHelper)");
        assertThat(status.batchNorm()).isEqualTo("oneDNN (MKLDNNBatchNormHelper)");
        assertThat(CpuAcceleration.enable()).isSameAs(status);
        assertThat(CpuAcceleration.describe()).startsWith("CPU: convolution=oneDNN (MKLDNNConvHelper)")
                .contains("OpenMP threads=", "OMP_WAIT_POLICY=");
        assertThat(CpuAcceleration.oneDnnUsable()).isTrue();
        // the shim answers DL4J's own check
        assertThat(BaseMKLDNNHelper.mklDnnEnabled()).isTrue();
    }

    @Test
    void leNet5OnOneDnnMatchesTheBuiltInPath() {
        assumeOneDnnBuild();
        LongFunction<MultiLayerConfiguration> lenet = seed -> LeNet5.configuration(seed, false);
        INDArray[] batch = LeNet5.randomBatch(7, LeNet5.BATCH);

        Run builtIn = run(lenet, batch, false);
        Run oneDnn = run(lenet, batch, true);

        assertThat(builtIn.helpers).containsOnlyNulls();
        assertThat(oneDnn.helpers).containsExactly(MKLDNNConvHelper.class, MKLDNNSubsamplingHelper.class,
                MKLDNNConvHelper.class, MKLDNNSubsamplingHelper.class, null, null, null);
        assertAgree(builtIn, oneDnn, 1e-4);
    }

    @Test
    void batchNormOnOneDnnMatchesTheBuiltInPath() {
        assumeOneDnnBuild();
        INDArray[] batch = LeNet5.randomBatch(11, 32);

        Run builtIn = run(CpuAccelerationTest::convBatchNormPool, batch, false);
        Run oneDnn = run(CpuAccelerationTest::convBatchNormPool, batch, true);

        assertThat(builtIn.helpers).containsOnlyNulls();
        assertThat(oneDnn.helpers).containsExactly(MKLDNNConvHelper.class, MKLDNNBatchNormHelper.class,
                MKLDNNSubsamplingHelper.class, null);
        // looser on gradients: the convolution bias in front of batch norm gets a near-zero gradient made of
        // cancelling terms (measured: 6e-5 apart, against 1e-6 relative for every LeNet gradient)
        assertAgree(builtIn, oneDnn, 5e-4);
    }

    @Test
    void theKillSwitchGivesTheBuiltInPathBack() {
        assumeOneDnnBuild();
        System.setProperty(CpuAcceleration.HELPERS_DISABLE_PROPERTY, "true");

        MultiLayerNetwork net = LeNet5.network(SEED, true);

        assertThat(net.getLayer(0).getHelper()).isNull();
        assertThat(net.getLayer(1).getHelper()).isNull();
    }

    // ---------------------------------------------------------------------------------------------------------------

    /** What one path computes from the same seed and batch. */
    private record Run(Class<?>[] helpers, INDArray initialParams, INDArray output, double score,
            Map<String, INDArray> gradients, INDArray finalParams, INDArray finalOutput) {
    }

    private static Run run(LongFunction<MultiLayerConfiguration> configuration, INDArray[] batch, boolean oneDnn) {
        System.setProperty(CpuAcceleration.HELPERS_DISABLE_PROPERTY, String.valueOf(!oneDnn));
        Nd4j.getEnvironment().allowHelpers(oneDnn);
        try {
            MultiLayerNetwork net = new MultiLayerNetwork(configuration.apply(SEED));
            net.init();
            Layer[] layers = net.getLayers();
            Class<?>[] helpers = new Class<?>[layers.length];
            for (int i = 0; i < layers.length; i++) {
                helpers[i] = layers[i].getHelper() == null ? null : layers[i].getHelper().getClass();
            }
            INDArray features = batch[0].dup();
            INDArray labels = batch[1].dup();
            INDArray initialParams = net.params().dup();
            INDArray output = net.output(features, false).dup();

            net.setInput(features);
            net.setLabels(labels);
            net.computeGradientAndScore();
            double score = net.score();
            Map<String, INDArray> gradients = new LinkedHashMap<>();
            Gradient gradient = net.gradient();
            gradient.gradientForVariable().forEach((key, value) -> gradients.put(key, value.dup()));
            net.clear();

            for (int i = 0; i < STEPS; i++) {
                net.fit(features, labels);
            }
            return new Run(helpers, initialParams, output, score, gradients, net.params().dup(),
                    net.output(features, false).dup());
        } finally {
            Nd4j.getEnvironment().allowHelpers(true);
        }
    }

    /** Measured on this build: forward 3e-8, gradients up to 1.2e-6 relative, parameters after 5 steps 4e-7. */
    private static void assertAgree(Run builtIn, Run oneDnn, double gradientTolerance) {
        assertThat(oneDnn.initialParams).as("same seed, same initial parameters").isEqualTo(builtIn.initialParams);
        assertClose("forward output", oneDnn.output, builtIn.output, 1e-5);
        assertThat(oneDnn.score).as("score").isCloseTo(builtIn.score, offset(1e-5));
        assertThat(oneDnn.gradients.keySet()).containsExactlyElementsOf(builtIn.gradients.keySet());
        builtIn.gradients.forEach((key, expected) -> assertClose("gradient " + key, oneDnn.gradients.get(key), expected,
                gradientTolerance));
        assertClose("parameters after " + STEPS + " steps", oneDnn.finalParams, builtIn.finalParams, 1e-5);
        assertClose("output after " + STEPS + " steps", oneDnn.finalOutput, builtIn.finalOutput, 1e-5);
        assertThat(oneDnn.finalParams).as("training moved the parameters").isNotEqualTo(oneDnn.initialParams);
    }

    /** max |a - b| <= tolerance * max(1, max |b|): relative to the tensor's scale, absolute for small ones. */
    private static void assertClose(String what, INDArray actual, INDArray expected, double tolerance) {
        assertThat(actual.shape()).as(what + " shape").isEqualTo(expected.shape());
        double scale = Math.max(1.0, expected.amaxNumber().doubleValue());
        double maxDiff = actual.castTo(DataType.DOUBLE).sub(expected.castTo(DataType.DOUBLE)).amaxNumber()
                .doubleValue();
        assertThat(maxDiff).as("%s: max |oneDNN - built-in| (scale %.3g)", what, scale)
                .isLessThanOrEqualTo(tolerance * scale);
    }

    private static MultiLayerConfiguration convBatchNormPool(long seed) {
        return new NeuralNetConfiguration.Builder()
                .seed(seed)
                .dataType(DataType.FLOAT)
                .weightInit(WeightInit.XAVIER)
                .updater(new Nesterovs(0.01, 0.9))
                .list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(8).activation(Activation.IDENTITY)
                        .helperAllowFallback(false).build())
                .layer(new BatchNormalization.Builder().activation(Activation.RELU).helperAllowFallback(false).build())
                .layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2)
                        .helperAllowFallback(false).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(10)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(28, 28, 1))
                .build();
    }
}
