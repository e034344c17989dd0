package dev.shears.trainer.cpu;

import static dev.shears.trainer.cpu.SameNumbers.assertSameActivations;
import static dev.shears.trainer.cpu.SameNumbers.maxRelativeDiff;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import org.assertj.core.data.Offset;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelperAccess;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Batch normalization on cached oneDNN primitives: DL4J's inference outputs up to float rounding, and gradients and
 * running statistics nearer exact arithmetic than DL4J's, for images and dense activations, whatever ran in between,
 * and the same numbers on every run.
 */
class OneDnnBatchNormTest extends OneDnnBatches {
    /**
     * conv → BN → ReLU → conv → BN → ReLU → dense → BN (rank 2) → output; no biases before a batch norm, as in ResNet (their
     * gradient is a sum that the normalization makes 0, so both sides hold rounding noise alone).
     */
    private static MultiLayerNetwork network() {
        return network(4, 6);
    }

    private static MultiLayerNetwork network(int first, int second) {
        return InputLayerGradientsTest.network(
                new ConvolutionLayer.Builder(3, 3).nOut(first).hasBias(false).activation(Activation.IDENTITY).build(),
                new BatchNormalization.Builder().build(),
                new ActivationLayer.Builder().activation(Activation.RELU).build(),
                new ConvolutionLayer.Builder(3, 3).nOut(second).stride(2, 2).hasBias(false)
                        .activation(Activation.IDENTITY).build(),
                new BatchNormalization.Builder().eps(1e-3).build(),
                new ActivationLayer.Builder().activation(Activation.RELU).build(),
                new DenseLayer.Builder().nOut(12).hasBias(false).activation(Activation.IDENTITY).build(),
                new BatchNormalization.Builder().build());
    }

    /**
     * The convolutions' 4 and 6 channels take oneDNN's generic NCHW code, 16 and 8 its blocked layouts and JIT kernels
     * (the dense layer's 12 the generic code in both).
     */
    @ParameterizedTest
    @CsvSource({"4, 6", "16, 8"})
    void gradientsAreNearerExactArithmeticThanDl4jsAndInferenceMatchesIt(int first, int second) {
        MultiLayerNetwork dl4j = network(first, second);
        MultiLayerNetwork shears = dl4j.clone();
        assertThat(BatchNormalizationHelperAccess.get(
                (org.deeplearning4j.nn.layers.normalization.BatchNormalization) dl4j.getLayer(1)))
                .as("DL4J's own helper, the baseline").isInstanceOf(MKLDNNBatchNormHelper.class);
        assertThat(OneDnnBatchNorm.install(shears.getLayers())).as("three batch norms").isEqualTo(3);
        assertThat(OneDnnBatchNorm.install(shears.getLayers())).as("idempotent").isEqualTo(3);
        assertThat(OneDnnBatchNorm.installed(shears.getLayer(4))).isTrue();
        assertThat(OneDnnBatchNorm.installed(dl4j.getLayer(4))).as("the original keeps its helper").isFalse();
        assertThat(OneDnnBatchNorm.installed(shears.getLayer(3))).as("a convolution").isFalse();

        assertNearerExactThanDl4j(dl4j, shears, batch);
        for (int i = 0; i < 3; i++) {
            shears.fit(i % 2 == 0 ? batch : otherBatch);
        }
        assertThat(shears.getLayer(4).getParam(BatchNormalizationParamInitializer.GLOBAL_MEAN).isNaN().any())
                .isFalse();
        for (int layer : new int[]{1, 4, 7}) {
            assertThat(BatchNormalizationHelperAccess.failures(
                    (org.deeplearning4j.nn.layers.normalization.BatchNormalization) shears.getLayer(layer)))
                    .as("layer %d: no exception DL4J swallowed to run its own path", layer).isZero();
        }
        // inference with the running statistics training left: DL4J's numbers for the same parameters
        dl4j.setParams(shears.params());
        assertSameActivations(dl4j, shears, otherBatch.getFeatures());
    }

    /**
     * Each gradient of {@code shears} (and each update of the running statistics, which DL4J passes as gradients)
     * within 1e-3 of its largest entry from the same network's in double precision (where DL4J's own path runs, with
     * no helper), and no farther from it than twice DL4J's float path's distance plus 1e-5 (both round, differently).
     * DL4J's float path is up to 2 % off in places (a beta's gradient; libnd4j's float sums); oneDNN's within 2e-4.
     */
    private static void assertNearerExactThanDl4j(MultiLayerNetwork dl4j, MultiLayerNetwork shears, DataSet data) {
        MultiLayerNetwork exact = dl4j.convertDataType(DataType.DOUBLE);
        exact.setInput(data.getFeatures().castTo(DataType.DOUBLE));
        exact.setLabels(data.getLabels().castTo(DataType.DOUBLE));
        exact.computeGradientAndScore();
        for (MultiLayerNetwork n : List.of(dl4j, shears)) {
            n.setInput(data.getFeatures());
            n.setLabels(data.getLabels());
            n.computeGradientAndScore();
        }
        assertThat(shears.score()).isCloseTo(exact.score(), Offset.offset(1e-5));
        Map<String, INDArray> e = exact.gradient().gradientForVariable();
        assertThat(shears.gradient().gradientForVariable().keySet()).isEqualTo(e.keySet());
        for (String k : e.keySet()) {
            double ours = maxRelativeDiff(e.get(k), shears.gradient().getGradientFor(k).castTo(DataType.DOUBLE));
            double theirs = maxRelativeDiff(e.get(k), dl4j.gradient().getGradientFor(k).castTo(DataType.DOUBLE));
            assertThat(ours).as("gradient %s against double precision (DL4J's float path: %s)", k, theirs)
                    .isLessThan(1e-3).isLessThanOrEqualTo(2 * theirs + 1e-5);
        }
    }

    /**
     * One batch norm's training forward pass and back-propagation against the same arithmetic in double precision:
     * the output, the batch's statistics, and the input, gamma and beta gradients of oneDNN's pass are as near it as
     * DL4J's (within float rounding of one another). 4 channels take oneDNN's generic NCHW code (largest error about
     * 3e-6 here), 8, 16 and 32 its JIT kernels on blocked layouts (2e-4 to 4e-4, DL4J's 8e-4 to 2e-3).
     */
    @ParameterizedTest
    @ValueSource(ints = {4, 8, 16, 32})
    void eachPassIsAsCloseToExactArithmeticAsDl4js(int channels) {
        MultiLayerNetwork dl4j = network(channels, 6);
        MultiLayerNetwork shears = dl4j.clone();
        OneDnnBatchNorm.install(shears.getLayers());
        // conv1's output, shifted and scaled so that the statistics are far from 0 and 1
        INDArray x = dl4j.feedForwardToLayer(0, batch.getFeatures(), true).get(1).mul(3).addi(5);
        INDArray dy = Nd4j.rand(DataType.FLOAT, x.shape()).subi(0.5);
        double[] exact = null;
        double[] errors = new double[2];
        int i = 0;
        for (MultiLayerNetwork net : List.of(dl4j, shears)) {
            Layer bn = net.getLayer(1);
            bn.getParam(BatchNormalizationParamInitializer.GAMMA)
                    .assign(Nd4j.linspace(DataType.FLOAT, 0.5, 0.25, channels));
            bn.getParam(BatchNormalizationParamInitializer.BETA)
                    .assign(Nd4j.linspace(DataType.FLOAT, -1, 0.5, channels));
            LayerWorkspaceMgr none = LayerWorkspaceMgr.noWorkspaces();
            bn.setInput(x.dup(), none);
            INDArray y = bn.activate(true, none).dup();
            var grads = bn.backpropGradient(dy.dup(), none);
            double[] got = concat(y, grads.getSecond(),
                    grads.getFirst().getGradientFor(BatchNormalizationParamInitializer.GAMMA),
                    grads.getFirst().getGradientFor(BatchNormalizationParamInitializer.BETA));
            if (exact == null) {
                exact = reference(x, dy, bn.getParam(BatchNormalizationParamInitializer.GAMMA), 1e-5);
            }
            errors[i++] = maxError(exact, got);
        }
        assertThat(errors[1]).as("oneDNN's largest error, DL4J's %s", errors[0])
                .isLessThanOrEqualTo(Math.max(2 * errors[0], 1e-6));
    }

    /** The layout follows the channels: blocked, on oneDNN's JIT kernels, where they fill its blocks. */
    @Test
    void channelsThatFillOneDnnsBlocksTakeItsJitKernelsAndTheOthersItsGenericCode() {
        assertThat(OneDnnBatchNorm.Plan.layouts(48)).extracting(Enum::name)
                .containsExactly("nChw16c", "nChw8c", "nchw");
        assertThat(OneDnnBatchNorm.Plan.layouts(24)).extracting(Enum::name).containsExactly("nChw8c", "nchw");
        assertThat(OneDnnBatchNorm.Plan.layouts(12)).extracting(Enum::name).containsExactly("nchw");
        for (boolean training : new boolean[]{true, false}) {
            assertThat(new OneDnnBatchNorm.Plan(new long[]{4, 32, 5, 5}, 1e-5f, training).implementation())
                    .contains("jit");
            assertThat(new OneDnnBatchNorm.Plan(new long[]{4, 24, 5, 5}, 1e-5f, training).implementation())
                    .contains("jit");
            assertThat(new OneDnnBatchNorm.Plan(new long[]{4, 12, 5, 5}, 1e-5f, training).implementation())
                    .contains("ncsp");
        }
    }

    /** y, dL/dx, dL/dgamma and dL/dbeta of a training batch norm over dims 0, 2, 3, in double precision. */
    private static double[] reference(INDArray x32, INDArray dy32, INDArray gamma32, double eps) {
        double[][][][] x = toDouble(x32);
        double[][][][] dy = toDouble(dy32);
        int n = x.length;
        int c = x[0].length;
        int h = x[0][0].length;
        int w = x[0][0][0].length;
        double m = (double) n * h * w;
        double[][][][] y = new double[n][c][h][w];
        double[][][][] dx = new double[n][c][h][w];
        double[] dGamma = new double[c];
        double[] dBeta = new double[c];
        for (int ch = 0; ch < c; ch++) {
            double g = gamma32.getDouble(ch);
            double sum = 0;
            for (double[][][] img : x) {
                for (double[] row : img[ch]) {
                    for (double v : row) {
                        sum += v;
                    }
                }
            }
            double mean = sum / m;
            double sq = 0;
            for (double[][][] img : x) {
                for (double[] row : img[ch]) {
                    for (double v : row) {
                        sq += (v - mean) * (v - mean);
                    }
                }
            }
            double inv = 1 / Math.sqrt(sq / m + eps);
            for (int a = 0; a < n; a++) {
                for (int r = 0; r < h; r++) {
                    for (int col = 0; col < w; col++) {
                        double xhat = (x[a][ch][r][col] - mean) * inv;
                        dBeta[ch] += dy[a][ch][r][col];
                        dGamma[ch] += dy[a][ch][r][col] * xhat;
                    }
                }
            }
            double beta = -1 + 0.5 * ch;
            for (int a = 0; a < n; a++) {
                for (int r = 0; r < h; r++) {
                    for (int col = 0; col < w; col++) {
                        double xhat = (x[a][ch][r][col] - mean) * inv;
                        y[a][ch][r][col] = g * xhat + beta;
                        dx[a][ch][r][col] = g * inv * (dy[a][ch][r][col] - dBeta[ch] / m - xhat * dGamma[ch] / m);
                    }
                }
            }
        }
        return concat(Nd4j.create(y), Nd4j.create(dx), Nd4j.create(dGamma), Nd4j.create(dBeta));
    }

    private static double[][][][] toDouble(INDArray a) {
        long[] s = a.shape();
        double[][][][] out = new double[(int) s[0]][(int) s[1]][(int) s[2]][(int) s[3]];
        for (int i = 0; i < s[0]; i++) {
            for (int j = 0; j < s[1]; j++) {
                for (int k = 0; k < s[2]; k++) {
                    for (int l = 0; l < s[3]; l++) {
                        out[i][j][k][l] = a.getDouble(i, j, k, l);
                    }
                }
            }
        }
        return out;
    }

    /** Each array's values in order, each scaled by its array's largest magnitude. */
    private static double[] concat(INDArray... arrays) {
        List<Double> all = new java.util.ArrayList<>();
        for (INDArray a : arrays) {
            double[] v = a.castTo(DataType.DOUBLE).dup().data().asDouble();
            double scale = Math.max(1e-12, a.castTo(DataType.DOUBLE).amaxNumber().doubleValue());
            for (double d : v) {
                all.add(d / scale);
            }
        }
        return all.stream().mapToDouble(Double::doubleValue).toArray();
    }

    private static double maxError(double[] exact, double[] got) {
        assertThat(got).hasSameSizeAs(exact);
        double max = 0;
        for (int i = 0; i < exact.length; i++) {
            max = Math.max(max, Math.abs(exact[i] - got[i]));
        }
        return max;
    }

    /** A batch of another size (an evaluation, the last batch of an epoch) gets primitives of its own. */
    @Test
    void batchesOfOtherSizesInBetweenChangeNothing() {
        MultiLayerNetwork dl4j = network();
        MultiLayerNetwork shears = dl4j.clone();
        OneDnnBatchNorm.install(shears.getLayers());
        SameNumbers.assertOtherBatchSizesChangeNothing(dl4j, shears, batch, otherBatch,
                b -> assertNearerExactThanDl4j(dl4j, shears, b));
    }

    /** What makes a resumed job compute what an uninterrupted one does: no state beyond one pass's statistics. */
    @Test
    void trainingTwiceFromTheSameStateGivesTheSameParametersToTheBit() {
        SameNumbers.assertTrainingRepeats(network(), net -> OneDnnBatchNorm.install(net.getLayers()), batch,
                otherBatch);
    }

    /** DL4J gives a batch norm with a fixed gamma and beta no helper; it keeps its own path. */
    @Test
    void aFixedGammaAndBetaKeepDl4jsPath() {
        MultiLayerNetwork net = InputLayerGradientsTest.network(
                new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.IDENTITY).build(),
                new BatchNormalization.Builder().lockGammaBeta(true).build());
        assertThat(OneDnnBatchNorm.install(net.getLayers())).isZero();
        net.fit(batch);
        assertThat(net.params().isNaN().any()).isFalse();
    }
}
