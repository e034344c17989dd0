package dev.shears.trainer.model;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.shears.common.data.InputShape;
import dev.shears.prune.Amount;
import dev.shears.prune.ChannelLimits;
import dev.shears.prune.GroupImportance;
import dev.shears.prune.Pruning;
import dev.shears.trainer.checkpoint.CheckpointState;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.cpu.CpuAcceleration;
import dev.shears.trainer.cpu.FusedInference;
import dev.shears.trainer.cpu.InputLayerGradients;
import dev.shears.trainer.train.MaskedTraining;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class TrainableModelTest {
    static final InputShape SMALL = InputShape.image(1, 8, 8);
    private static final long SEED = 5;

    @TempDir
    Path dir;

    /** A tiny graph of each kind the job trains: ResNet-8 (residual adds) and MobileNetV2 (depthwise, dropout). */
    static TrainableModel tiny(String architecture) {
        return TrainableModel.of(switch (architecture) {
            case "resnet" -> Models.resnet(8, 4, SMALL, 3, SEED, new Adam(0.01), 1e-4);
            case "mobilenetv2" -> Models.mobilenetv2(0.25, SMALL, 3, SEED, new Adam(0.01), 1e-4);
            default -> throw new IllegalArgumentException(architecture);
        }, SMALL);
    }

    /** Batch {@code index} of a deterministic stream: flat features, as the legacy batches are. */
    static DataSet batch(long index) {
        java.util.Random random = new java.util.Random(1000 + index);
        float[] values = new float[16 * SMALL.size()];
        for (int i = 0; i < values.length; i++) {
            values[i] = random.nextFloat();
        }
        INDArray labels = Nd4j.zeros(DataType.FLOAT, 16, 3);
        for (int r = 0; r < 16; r++) {
            labels.putScalar(r, (int) ((index + r) % 3), 1f);
        }
        return new DataSet(Nd4j.create(values, new long[]{16, SMALL.size()}, 'c'), labels);
    }

    static void train(TrainableModel model, long from, int count) {
        for (long i = from; i < from + count; i++) {
            model.fit(batch(i), SEED, i);
        }
    }

    /** A tiny graph and its pruning. */
    private record Pruned(TrainableModel model, Pruning pruning) {
    }

    /**
     * A tiny graph on the training path, trained 2 iterations dense, every group pruned to half its channels and
     * trained 2 more.
     */
    private static Pruned prunedAfterTraining(String architecture) {
        TrainableModel model = tiny(architecture);
        Pruning pruning = model.newPruning();
        model.setListeners(new MaskedTraining(pruning));
        model.prepareTraining();
        train(model, 0, 2);
        pruning.globalGroupStructured(model.dependencyGroups().prunable(), Amount.fraction(0.5), GroupImportance.L2,
                ChannelLimits.KEEP_ONE);
        train(model, 2, 2);
        return new Pruned(model, pruning);
    }

    /** As {@link #prunedAfterTraining}, then checkpointed (iteration 4) in {@link #dir}. */
    private TrainableModel checkpointedAfterPruning(String architecture) throws java.io.IOException {
        Pruned pruned = prunedAfterTraining(architecture);
        TrainableModel model = pruned.model();
        Pruning pruning = pruned.pruning();
        new Checkpoints(dir).save(model.model(), pruning, new CheckpointState("job", 1, 4, 0, 4, SEED, 0.5, 0.5, 0.5,
                1.0, Map.of(), 0.5, List.of(), Instant.parse("2026-12-01T00:00:00Z")), 2);
        return model;
    }

    /** Evaluation's forward pass: compiled for inference, on the flat batches jobs evaluate, after masked training. */
    @ParameterizedTest
    @ValueSource(strings = {"resnet", "mobilenetv2"})
    void inferenceComputesTheOutputsOfTheMaskedGraphAsItIsNow(String architecture) {
        assumeTrue(FusedInference.available(), "oneDNN's presets do not load here");
        TrainableModel model = prunedAfterTraining(architecture).model();
        INDArray flat = batch(9).getFeatures();

        assertThat(model.withInference(forward -> forward.apply(flat)).sub(model.output(flat)).amaxNumber()
                .doubleValue()).isLessThan(1e-5);
        train(model, 4, 1); // a compiled form is of the parameters it was compiled with: ask again
        assertThat(model.withInference(forward -> forward.apply(flat)).sub(model.output(flat)).amaxNumber()
                .doubleValue()).isLessThan(1e-5);
    }

    @Test
    void aModelWithALayerThatHasNoFusedFormIsEvaluatedThroughDl4j() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(SEED).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(2).activation(Activation.RELU).build())
                .layer(new ZeroPaddingLayer.Builder(1, 1).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3)
                        .activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutionalFlat(8, 8, 1)).build());
        net.init();
        TrainableModel model = TrainableModel.of(net, SMALL);
        INDArray flat = batch(3).getFeatures();
        INDArray evaluated = model.withInference(forward -> forward.apply(flat));

        assertThat(evaluated).isEqualTo(model.output(flat));
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"resnet", "mobilenetv2"})
    void aGraphResumedFromItsCheckpointTrainsBitIdenticallyToOneTrainedStraightThrough(String architecture)
            throws Exception {
        TrainableModel straight = checkpointedAfterPruning(architecture);
        train(straight, 4, 4);

        Checkpoints.Restored restored = new Checkpoints(dir).restoreLatest().orElseThrow();
        TrainableModel resumed = TrainableModel.of(restored.model().model(), SMALL);
        assertThat(resumed.isGraph()).isTrue();
        resumed.setListeners(new MaskedTraining(restored.model().pruning()));
        resumed.prepareTraining();
        train(resumed, 4, 4);

        assertThat(resumed.params()).isEqualTo(straight.params());
        assertThat(resumed.updaterState()).isEqualTo(straight.updaterState());
    }

    @Test
    void aMobileNetResumedInAFreshProcessTrainsBitIdenticallyToOneTrainedStraightThrough() throws Exception {
        TrainableModel straight = checkpointedAfterPruning("mobilenetv2");
        train(straight, 4, 3);

        Path params = dir.resolve("params.bin");
        Path updater = dir.resolve("updater.bin");
        Process process = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
                System.getProperty("java.class.path"), GraphResumeProbe.class.getName(), dir.toString(), "3",
                params.toString(), updater.toString()).inheritIO().start();
        assertThat(process.waitFor(180, java.util.concurrent.TimeUnit.SECONDS)).as("resume process finished").isTrue();
        assertThat(process.exitValue()).isZero();
        assertThat(Nd4j.readBinary(params.toFile())).isEqualTo(straight.params());
        assertThat(Nd4j.readBinary(updater.toFile())).isEqualTo(straight.updaterState());
    }

    @Test
    void aGraphOnTheFastTrainingPathLearnsWhatDl4jsOwnPathLearns() {
        assumeTrue(CpuAcceleration.enable().oneDnn(), "oneDNN is not in use on this machine");
        TrainableModel plain = tiny("resnet");
        TrainableModel fast = tiny("resnet");
        fast.prepareTraining();
        assertThat(InputLayerGradients.skip((ComputationGraph) fast.model())).as("layers reading the input").isOne();
        train(plain, 0, 4);
        train(fast, 0, 4);

        double largest = fast.params().sub(plain.params()).amaxNumber().doubleValue();
        assertThat(largest).as("largest parameter difference after 4 Adam steps").isLessThan(1e-4);
        assertThat(fast.params()).isNotEqualTo(tiny("resnet").params());
    }

    @Test
    void flatFeaturesReachAGraphAsImagesAndTheOutputIsOneRowPerExample() {
        TrainableModel model = tiny("mobilenetv2");
        INDArray flat = batch(0).getFeatures();
        INDArray out = model.output(flat);
        assertThat(out.shape()).containsExactly(16, 3);
        assertThat(model.output(flat.reshape(16, 1, 8, 8))).isEqualTo(out);
    }

    @Test
    void costsCountTheGraphAtTheDataShapeAndACopyIsIndependent() {
        TrainableModel model = tiny("resnet");
        assertThat(model.cost().parameters()).isEqualTo(model.numParams());
        assertThat(model.cost().flops()).isPositive();
        TrainableModel copy = model.copy();
        train(copy, 0, 1);
        assertThat(copy.params()).isNotEqualTo(model.params());
    }

    @Test
    void refusesAModelOfAnotherKind() {
        assertThatThrownBy(() -> TrainableModel.of(null, SMALL)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("neither a MultiLayerNetwork nor a ComputationGraph");
    }
}
