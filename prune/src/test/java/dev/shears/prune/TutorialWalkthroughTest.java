package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * PyTorch's pruning tutorial (https://pytorch.org/tutorials/intermediate/pruning_tutorial.html),
 * step by step on its LeNet built in DL4J ({@link TutorialLeNet}), then what DL4J adds: the dense
 * layout, N:M, global structured pruning, graphs, training with masks.
 */
class TutorialWalkthroughTest {
    private static final List<String> WEIGHTS = List.of("conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight",
            "fc3.weight");

    @TempDir
    Path dir;

    private final MultiLayerNetwork net = TutorialLeNet.build(42);
    private final Pruning pruning = Pruning.of(net).seed(0);

    // ---- the tutorial -------------------------------------------------------------------------

    @Test
    void randomUnstructuredThenL1OnTheBiasKeepOrigAndMaskInTheStateDict() {
        double[] bias = values(pruning.weight("conv1.bias"));

        pruning.randomUnstructured("conv1.weight", Amount.fraction(0.3));
        pruning.l1Unstructured("conv1.bias", Amount.count(3));

        assertThat(pruning.stateDict())
                .containsKeys("conv1.weight_orig", "conv1.weight_mask", "conv1.bias_orig", "conv1.bias_mask")
                .doesNotContainKeys("conv1.weight", "conv1.bias");
        assertThat(zeros(pruning.mask("conv1.weight"))).isEqualTo(16); // round(0.3 * 54)
        assertThat(zeros(net.getLayer("conv1").getParam("W"))).isEqualTo(16);
        int[] bySize = IntStream.range(0, 6).boxed().sorted(Comparator.comparingDouble(i -> Math.abs(bias[i])))
                .mapToInt(Integer::intValue).toArray();
        double[] biasMask = values(pruning.mask("conv1.bias"));
        for (int rank = 0; rank < 6; rank++) {
            assertThat(biasMask[bySize[rank]]).as("bias %d, rank %d by |b|", bySize[rank], rank)
                    .isEqualTo(rank < 3 ? 0 : 1);
        }
        for (String name : List.of("conv1.weight", "conv1.bias")) {
            Bits.assertSame(pruning.weight(name), pruning.orig(name).mul(pruning.mask(name)), name + " = orig * mask");
        }
        Bits.assertSame(net.getLayer("conv1").getParam("W"), pruning.weight("conv1.weight"), "the network's W");
        Bits.assertSame(net.getLayer("conv1").getParam("b").reshape(6), pruning.weight("conv1.bias"),
                "the network's b");
    }

    @Test
    void lnStructuredOnTopOfRandomZeroesTheThreeFiltersOfSmallestMaskedNorm() {
        pruning.seed(1).randomUnstructured("conv1.weight", Amount.fraction(0.3));
        INDArray maskBefore = pruning.mask("conv1.weight").dup();
        double[] maskedNorms = filterNorms(pruning.weight("conv1.weight"));
        double[] origNorms = filterNorms(pruning.orig("conv1.weight"));
        assertThat(lowest(maskedNorms, 3)).as("precondition: masked and orig norms rank differently")
                .isNotEqualTo(lowest(origNorms, 3));

        pruning.lnStructured("conv1.weight", Amount.fraction(0.5), Norm.L2, 0);

        INDArray mask = pruning.mask("conv1.weight");
        Set<Integer> removed = IntStream.range(0, 6).filter(f -> mask.slice(f).sumNumber().doubleValue() == 0)
                .boxed().collect(Collectors.toSet());
        assertThat(removed).isEqualTo(lowest(maskedNorms, 3));
        for (int f = 0; f < 6; f++) {
            if (!removed.contains(f)) {
                Bits.assertSame(mask.slice(f), maskBefore.slice(f), "kept filter " + f + " keeps its random zeros");
            }
        }
        assertThat(mask.mul(maskBefore.rsub(1)).sumNumber().doubleValue()).as("nothing pruned comes back").isZero();
        Bits.assertSame(net.getLayer("conv1").getParam("W"), pruning.weight("conv1.weight"), "the network's W");
    }

    @Test
    void prunesTwentyPercentOfEveryConvolutionAndFortyOfEveryDenseWeight() {
        for (PrunableParameter p : pruning.prunableWeights()) {
            pruning.l1Unstructured(p.name(), Amount.fraction(p.kind() == LayerKind.CONVOLUTION ? 0.2 : 0.4));
        }

        assertThat(pruning.stateDict().keySet().stream().filter(k -> k.endsWith("_mask")))
                .containsExactly("conv1.weight_mask", "conv2.weight_mask", "fc1.weight_mask", "fc2.weight_mask",
                        "fc3.weight_mask");
        SparsityReport report = pruning.report(WEIGHTS);
        assertThat(WEIGHTS.stream().mapToLong(n -> report.entry(n).masked()))
                .containsExactly(11L, 173L, 19200L, 4032L, 336L); // round(0.2 * 54), round(0.2 * 864), 0.4 * 48000, ...
        assertThat(WEIGHTS.stream().mapToLong(n -> report.entry(n).zeros()))
                .containsExactly(11L, 173L, 19200L, 4032L, 336L);
        assertPrunedAreTheSmallest(List.of("fc2.weight"));
    }

    @Test
    void globalPruningReachesTwentyPercentOverallWithUnevenLayers() {
        pruning.globalUnstructured(WEIGHTS, Amount.fraction(0.2));

        SparsityReport report = pruning.report(WEIGHTS);
        System.out.println("Global 20 % over the tutorial's LeNet:\n" + report);
        assertThat(report.total().size()).isEqualTo(54 + 864 + 48000 + 10080 + 840);
        assertThat(report.total().masked()).isEqualTo(11968).isEqualTo((long) Math.rint(0.2 * 59838));
        assertThat(report.total().zeros()).isEqualTo(11968);
        // Weights start uniform in +-1/sqrt(fan_in): fc1 (fan-in 400) has the smallest, conv1 (fan-in 9) the largest.
        assertThat(report.entry("fc1.weight").sparsity()).isGreaterThan(0.2);
        assertThat(report.entry("conv1.weight").sparsity()).isLessThan(report.entry("conv2.weight").sparsity())
                .isLessThan(0.1);
        assertPrunedAreTheSmallest(WEIGHTS);
    }

    @Test
    void aCustomMethodPrunesEveryOtherEntryOfWhatRemains() {
        PruningMethod fooBar = (t, defaultMask) -> { // PyTorch's FooBarPruningMethod
            INDArray mask = defaultMask.dup();
            for (long i = 0; i < mask.length(); i += 2) {
                mask.putScalar(i, 0);
            }
            return mask;
        };

        pruning.apply("fc3.bias", fooBar);
        assertThat(values(pruning.mask("fc3.bias"))).containsExactly(0, 1, 0, 1, 0, 1, 0, 1, 0, 1);

        pruning.apply("fc3.bias", fooBar); // the container hands it entries 1, 3, 5, 7, 9 only
        assertThat(values(pruning.mask("fc3.bias"))).containsExactly(0, 0, 0, 1, 0, 0, 0, 1, 0, 0);
        assertThat(values(net.getLayer("fc3").getParam("b"))).containsExactly(values(pruning.weight("fc3.bias")));
    }

    @Test
    void removeMakesThePruningPermanent() {
        pruning.randomUnstructured("conv1.weight", Amount.fraction(0.3))
                .lnStructured("conv1.weight", Amount.fraction(0.5), Norm.L2, 0);
        INDArray effective = pruning.weight("conv1.weight").dup();

        pruning.remove("conv1.weight");

        assertThat(pruning.isPruned("conv1.weight")).isFalse();
        assertThat(pruning.isPruned()).isFalse();
        assertThat(pruning.stateDict()).containsKey("conv1.weight").doesNotContainKeys("conv1.weight_orig",
                "conv1.weight_mask");
        Bits.assertSame(net.getLayer("conv1").getParam("W"), effective, "the network's W keeps the zeros");
        assertThat(zeros(net.getLayer("conv1").getParam("W"))).isGreaterThanOrEqualTo(27); // 3 filters + random zeros
        assertThatThrownBy(() -> pruning.remove("conv2.weight"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(
                        "Parameter 'weight' of module conv2 has to be pruned before pruning can be removed");
    }

    @Test
    void savesAndRestoresThePrunedModelWithItsMasks() throws Exception {
        for (PrunableParameter p : pruning.prunableWeights()) {
            pruning.l1Unstructured(p.name(), Amount.fraction(p.kind() == LayerKind.CONVOLUTION ? 0.2 : 0.4));
        }
        pruning.randomUnstructured("fc1.bias", Amount.fraction(0.5));
        File file = dir.resolve("lenet.zip").toFile();

        PrunedModel.save(net, pruning, file, false);
        PrunedModel restored = PrunedModel.restore(file, false);

        Bits.assertSame(restored.pruning().stateDict(), pruning.stateDict());
        INDArray batch = TutorialLeNet.batch(4, 1);
        Bits.assertSame(restored.network().output(batch), net.output(batch), "output");
    }

    // ---- DL4J's layout and beyond the tutorial ------------------------------------------------

    @Test
    void lnStructuredOnDim0OfADenseWeightRemovesWholeOutputUnits() {
        pruning.lnStructured("fc1.weight", Amount.count(30), Norm.L2, 0);

        INDArray w = net.getLayer("fc1").getParam("W"); // DL4J: [nIn, nOut]
        assertThat(w.shape()).containsExactly(400, 120);
        INDArray mask = pruning.mask("fc1.weight"); // PyTorch: [out, in]
        boolean[] removed = new boolean[120];
        for (int unit = 0; unit < 120; unit++) {
            removed[unit] = mask.getRow(unit).sumNumber().doubleValue() == 0;
            assertThat(zeros(w.getColumn(unit)) == 400).as("column %d of W", unit).isEqualTo(removed[unit]);
        }
        assertThat(count(removed)).isEqualTo(30);

        INDArray unitMask = Nd4j.create(DataType.FLOAT, 120);
        IntStream.range(0, 120).forEach(u -> unitMask.putScalar(u, removed[u] ? 0 : 1));
        pruning.customFromMask("fc1.bias", unitMask); // the bias of a removed unit goes too
        INDArray fc1Out = net.feedForward(TutorialLeNet.batch(16, 2), false).get(5); // input, conv1, pool1, conv2, pool2, fc1
        for (int unit = 0; unit < 120; unit++) {
            if (removed[unit]) {
                assertThat(zeros(fc1Out.getColumn(unit))).as("fc2's input from removed unit %d", unit).isEqualTo(16);
            }
        }
        assertThat(zeros(fc1Out)).as("the other units are alive").isLessThan(16 * 120);

        pruning.lnStructured("fc2.weight", Amount.count(20), Norm.L2, 1); // dim 1: input features = rows of W
        INDArray w2 = net.getLayer("fc2").getParam("W");
        assertThat(IntStream.range(0, 120).filter(r -> zeros(w2.getRow(r)) == 84).count()).isEqualTo(20);
    }

    @Test
    void twoFourSparsityLeavesTwoOfEveryFourInputsPerOutputUnit() {
        double[] orig = values(pruning.weight("fc1.weight")); // [120, 400], C order

        pruning.semiStructured("fc1.weight", 2, 4);

        double[] mask = values(pruning.mask("fc1.weight"));
        double[] w = values(net.getLayer("fc1").getParam("W")); // DL4J: [400, 120], C order
        for (int out = 0; out < 120; out++) {
            for (int g = 0; g < 400; g += 4) {
                int at = out * 400 + g;
                double[] kept = IntStream.range(at, at + 4).filter(i -> mask[i] == 1)
                        .mapToDouble(i -> Math.abs(orig[i])).toArray();
                double[] cut = IntStream.range(at, at + 4).filter(i -> mask[i] == 0).mapToDouble(i -> Math.abs(orig[i]))
                        .toArray();
                assertThat(kept).as("unit %d, inputs %d..%d", out, g, g + 3).hasSize(2);
                assertThat(Math.min(kept[0], kept[1])).isGreaterThanOrEqualTo(Math.max(cut[0], cut[1]));
                int column = out;
                assertThat(IntStream.range(g, g + 4).filter(in -> w[in * 120 + column] == 0).count()).isEqualTo(2);
            }
        }
    }

    @Test
    void globalStructuredRemovesTheWeakestChannelsAcrossLayersByNormPerEntry() {
        List<String> names = List.of("conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight");
        Map<String, double[]> scores = names.stream()
                .collect(Collectors.toMap(n -> n, n -> normalisedNorms(pruning.weight(n))));

        pruning.globalStructured(names, Amount.fraction(0.6), Norm.L2, 0); // round(0.6 * 226) = 136 channels

        List<Double> removedScores = new ArrayList<>();
        List<Double> keptScores = new ArrayList<>();
        long layersTouched = 0;
        for (String name : names) {
            double[][] mask = channels(pruning.mask(name));
            long removed = 0;
            for (int c = 0; c < mask.length; c++) {
                boolean gone = java.util.Arrays.stream(mask[c]).allMatch(x -> x == 0);
                assertThat(gone || java.util.Arrays.stream(mask[c]).allMatch(x -> x == 1))
                        .as("%s channel %d is whole", name, c).isTrue();
                removed += gone ? 1 : 0;
            }
            assertThat(removed).as(name + " keeps a channel").isLessThan(mask.length);
            for (int c = 0; c < mask.length; c++) {
                boolean gone = mask[c][0] == 0;
                if (gone || removed < mask.length - 1) { // a layer's last channel stays whatever its score
                    (gone ? removedScores : keptScores).add(scores.get(name)[c]);
                }
            }
            layersTouched += removed > 0 ? 1 : 0;
        }
        assertThat(removedScores).hasSize(136);
        assertThat(layersTouched).isGreaterThan(1);
        assertThat(zeroChannels(pruning.mask("fc1.weight"))).as("fc1 would lose all; it keeps one").isEqualTo(119);
        assertThat(removedScores.stream().mapToDouble(Double::doubleValue).max().getAsDouble())
                .isLessThanOrEqualTo(keptScores.stream().mapToDouble(Double::doubleValue).min().getAsDouble());

        Pruning fresh = Pruning.of(TutorialLeNet.build(42));
        fresh.globalStructured(names, Amount.count(226 - 4), Norm.L2, 0);
        assertThat(names.stream().mapToLong(n -> fresh.mask(n).size(0) - zeroChannels(fresh.mask(n)))).containsOnly(1L);
        assertThatThrownBy(
                () -> Pruning.of(TutorialLeNet.build(42)).globalStructured(names, Amount.count(226 - 3), Norm.L2, 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("at most 222");
    }

    @Test
    void aComputationGraphIsPrunedByVertexName() {
        ComputationGraph graph = PrunedModelTest.smallGraph();
        INDArray x = Nd4j.rand(Nd4j.getRandomFactory().getNewRandomInstance(4), 5, 6);
        INDArray before = graph.outputSingle(x).dup();
        Pruning graphPruning = Pruning.of(graph);

        assertThat(graphPruning.prunableWeights().stream().map(PrunableParameter::name))
                .containsExactly("left.weight", "right.weight", "out.weight");
        graphPruning.l1Unstructured("left_W", Amount.fraction(0.5)) // DL4J's key works too
                .lnStructured("right.weight", Amount.count(1), Norm.L1, 0)
                .globalUnstructured(List.of("left.weight", "out.weight"), Amount.fraction(0.2));

        assertThat(graphPruning.isPruned("left.weight")).isTrue();
        Bits.assertSame(graph.getParam("left_W"), graphPruning.weight("left.weight").transpose(), "left_W");
        INDArray right = graph.getParam("right_W"); // [6, 4]
        assertThat(IntStream.range(0, 4).filter(u -> zeros(right.getColumn(u)) == 6).count()).isEqualTo(1);
        assertThat(graphPruning.report(List.of("left.weight", "out.weight")).total().masked())
                .isEqualTo(24 + (long) Math.rint(0.2 * (24 + 36)));
        assertThat(graph.outputSingle(x).equalsWithEps(before, 1e-6)).as("the graph runs pruned").isFalse();
    }

    @Test
    void trainingAfterPruningThenApplyMasksRestoresTheZerosAndKeepsTheTrainedValues() {
        for (String name : WEIGHTS) {
            pruning.l1Unstructured(name, Amount.fraction(0.5));
        }
        Map<String, INDArray> origBefore = WEIGHTS.stream()
                .collect(Collectors.toMap(n -> n, n -> pruning.orig(n).dup()));

        for (int step = 0; step < 3; step++) {
            net.fit(TutorialLeNet.batch(8, step), TutorialLeNet.labels(8, step));
        }
        assertThat(maskedNonZeros("fc1.weight")).as("plain DL4J training moves pruned weights").isPositive();

        pruning.applyMasks();

        for (String name : WEIGHTS) {
            assertThat(maskedNonZeros(name)).as(name + ": pruned entries are 0 again").isZero();
            double[] w = values(pruning.weight(name));
            double[] orig = values(pruning.orig(name));
            double[] mask = values(pruning.mask(name));
            double[] before = values(origBefore.get(name));
            boolean trained = false;
            for (int i = 0; i < w.length; i++) {
                if (mask[i] == 1) {
                    assertThat(orig[i]).as("%s[%d]: orig takes the trained value", name, i).isEqualTo(w[i]);
                    trained |= orig[i] != before[i];
                } else {
                    assertThat(orig[i]).as("%s[%d]: orig keeps the pruned value", name, i).isEqualTo(before[i]);
                }
            }
            assertThat(trained).as(name + " was trained").isTrue();
        }
    }

    // ---- helpers ------------------------------------------------------------------------------

    /** For every named weight: the largest |orig| pruned is no larger than the smallest kept. */
    private void assertPrunedAreTheSmallest(List<String> names) {
        double maxPruned = 0;
        double minKept = Double.POSITIVE_INFINITY;
        for (String name : names) {
            double[] orig = values(pruning.orig(name));
            double[] mask = values(pruning.mask(name));
            for (int i = 0; i < orig.length; i++) {
                if (mask[i] == 0) {
                    maxPruned = Math.max(maxPruned, Math.abs(orig[i]));
                } else {
                    minKept = Math.min(minKept, Math.abs(orig[i]));
                }
            }
        }
        assertThat(maxPruned).isLessThanOrEqualTo(minKept);
    }

    /** Non-zero entries of the network's weight where the mask is 0. */
    private long maskedNonZeros(String name) {
        INDArray w = net.getLayer(name.substring(0, name.indexOf('.'))).getParam("W");
        INDArray torchLayout = w.rank() == 2 ? w.transpose() : w;
        return torchLayout.mul(pruning.mask(name).rsub(1)).neq(0).castTo(DataType.INT64).sumNumber().longValue();
    }

    /** The channels along dim 0 (filters, output units), each as its values in C order. */
    private static double[][] channels(INDArray t) {
        double[] v = values(t);
        int n = (int) t.size(0);
        int inner = v.length / n;
        double[][] channels = new double[n][];
        for (int c = 0; c < n; c++) {
            channels[c] = java.util.Arrays.copyOfRange(v, c * inner, (c + 1) * inner);
        }
        return channels;
    }

    private static double norm2(double[] v) {
        return Math.sqrt(java.util.Arrays.stream(v).map(x -> x * x).sum());
    }

    private static double[] filterNorms(INDArray w) {
        return java.util.Arrays.stream(channels(w)).mapToDouble(TutorialWalkthroughTest::norm2).toArray();
    }

    /** L2 norm of each channel along dim 0 divided by sqrt(its size): what globalStructured ranks by. */
    private static double[] normalisedNorms(INDArray w) {
        return java.util.Arrays.stream(channels(w)).mapToDouble(c -> norm2(c) / Math.sqrt(c.length)).toArray();
    }

    private static Set<Integer> lowest(double[] scores, int k) {
        return IntStream.range(0, scores.length).boxed().sorted(Comparator.comparingDouble(i -> scores[i])).limit(k)
                .collect(Collectors.toCollection(HashSet::new));
    }

    /** Channels along dim 0 whose entries are all 0. */
    private static long zeroChannels(INDArray mask) {
        return java.util.Arrays.stream(channels(mask)).filter(c -> java.util.Arrays.stream(c).allMatch(x -> x == 0))
                .count();
    }

    static double[] values(INDArray t) {
        INDArray c = t.castTo(DataType.DOUBLE).dup('c');
        return c.reshape(c.length()).toDoubleVector();
    }

    static long zeros(INDArray t) {
        return t.length() - t.neq(0).castTo(DataType.INT64).sumNumber().longValue();
    }

    private static long count(boolean[] b) {
        long n = 0;
        for (boolean x : b) {
            n += x ? 1 : 0;
        }
        return n;
    }
}
