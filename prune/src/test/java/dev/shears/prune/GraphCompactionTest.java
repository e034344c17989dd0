package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.ndarray.INDArray;

class GraphCompactionTest {

    /** Prunes every prunable group by half (L2 group norm) and returns the groups. */
    private static DependencyGroups pruneEveryGroupByHalf(ComputationGraph graph) {
        DependencyGroups groups = DependencyGroups.of(graph);
        Pruning pruning = Pruning.of(graph);
        for (ChannelGroup g : groups.prunable()) {
            pruning.groupStructured(g, Amount.fraction(0.5), GroupImportance.L2);
        }
        return groups;
    }

    private static double maxDifference(ComputationGraph a, ComputationGraph b, INDArray x) {
        return a.outputSingle(x).sub(b.outputSingle(x)).amaxNumber().doubleValue();
    }

    @Test
    void aResidualGraphPrunedByGroupsBecomesSmallerAndComputesTheSame() {
        ComputationGraph graph = Graphs.residual();
        pruneEveryGroupByHalf(graph);

        Compaction.Result result = Compaction.compact(graph);

        ComputationGraph small = result.graph();
        assertThat(result.keptChannels()).containsOnlyKeys("stem", "a1", "b1", "b2");
        assertThat(result.keptChannels().get("stem")).hasSize(2);
        assertThat(result.keptChannels().get("b2")).hasSize(4);
        assertThat(small.getParam("a2_W").shape()).containsExactly(2, 2, 3, 3); // [out (stem group), in (a1 group), kh, kw]
        assertThat(small.getParam("proj_bn_mean").length()).isEqualTo(4);
        assertThat(small.getParam("out_W").shape()).containsExactly(4, 3);
        assertThat(result.parametersAfter()).isLessThan(result.parametersBefore() / 3);
        assertThat(maxDifference(graph, small, Graphs.batch(16, 2, 8, 8))).isLessThan(1e-4);
    }

    @Test
    void aMobileNetBlockLosesChannelsThroughItsDepthwiseConvolutionAndComputesTheSame() {
        ComputationGraph graph = Graphs.mobileBlock();
        pruneEveryGroupByHalf(graph);

        Compaction.Result result = Compaction.compact(graph);

        assertThat(result.keptChannels().get("expand")).hasSize(8);
        assertThat(result.graph().getParam("dw_W").shape()).containsExactly(3, 3, 8, 1); // DL4J's [kh, kw, in, multiplier]
        assertThat(result.graph().getParam("project_W").shape()).containsExactly(4, 8, 1, 1);
        assertThat(maxDifference(graph, result.graph(), Graphs.batch(16, 3, 8, 8))).isLessThan(1e-4);
    }

    @Test
    void concatenatedAndFlattenedChannelsAreSlicedAtTheirOffsets() {
        ComputationGraph graph = Graphs.concatenating();
        pruneEveryGroupByHalf(graph);

        Compaction.Result result = Compaction.compact(graph);

        // a 3 → 1 (Python rounds 1.5 pruned to 2), b 2 → 1, c 4 → 2: m2 = 2 + (1 + 1) channels of 16 features each
        assertThat(result.graph().getParam("fc_W").shape()).containsExactly(64, 3);
        assertThat(result.graph().getParam("c_W").shape()).containsExactly(2, 2, 1, 1);
        assertThat(maxDifference(graph, result.graph(), Graphs.batch(16, 1, 8, 8))).isLessThan(1e-4);
    }

    @Test
    void aChannelWhoseFiltersAlonePrunedOutputsItsBiasFoldedIntoTheDenseReader() {
        ComputationGraph graph = Graphs.concatenating();
        Pruning pruning = Pruning.of(graph);
        pruning.lnStructured("c.weight", Amount.count(2), Norm.L2, 0); // c's bias stays: relu(bias) reaches fc
        pruning.removeAll();
        INDArray before = graph.getParam("c_b").dup();

        Compaction.Result result = Compaction.compact(graph);

        assertThat(before.gt(0).castTo(org.nd4j.linalg.api.buffer.DataType.INT32).sumNumber().intValue())
                .as("some pruned channel outputs a non-zero constant").isPositive();
        assertThat(result.keptChannels().get("c")).hasSize(2);
        assertThat(maxDifference(graph, result.graph(), Graphs.batch(16, 1, 8, 8))).isLessThan(1e-4);
    }

    @Test
    void aBatchNormWithZeroScaleLeavesReluOfItsShiftWhichGoesWhereItIsZeroAndStaysBeforeAPaddedConvolutionElse() {
        ComputationGraph graph = Graphs.residual();
        INDArray gamma = graph.getParam("a1_bn_gamma");
        INDArray beta = graph.getParam("a1_bn_beta");
        gamma.putScalar(1, 0);
        beta.putScalar(1, -0.3); // relu(-0.3) = 0: nothing reaches a2
        gamma.putScalar(2, 0);
        beta.putScalar(2, 0.4); // relu(0.4) = 0.4 before a2's padded 3x3: borders see zeros, so it cannot fold

        Compaction.Result result = Compaction.compact(graph);

        assertThat(result.keptChannels()).containsOnlyKeys("a1");
        assertThat(result.keptChannels().get("a1")).containsExactly(0, 2, 3);
        assertThat(maxDifference(graph, result.graph(), Graphs.batch(16, 2, 8, 8))).isLessThan(1e-4);
    }

    @Test
    void depthMultipliersSpreadAChannelOverSeveralPositionsOfTheNextLayers() {
        ComputationGraphConfiguration conf = Graphs.base().graphBuilder()
                .addInputs("in")
                .addLayer("stem", Graphs.conv(3, 4, 1, true), "in")
                .addLayer("dw", new DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(2)
                        .activation(Activation.RELU).build(), "stem")
                .addLayer("sep", new SeparableConvolution2D.Builder(3, 3).depthMultiplier(2).nOut(6)
                        .activation(Activation.RELU).build(), "dw")
                .addLayer("extra", Graphs.conv(1, 6, 1, true), "sep")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "sep", "extra")
                .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "add")
                .addLayer("out", Graphs.out(3), "gap")
                .setOutputs("out")
                .setInputTypes(InputType.convolutional(8, 8, 2))
                .build();
        ComputationGraph graph = Graphs.randomised(conf);
        ChannelGroup stem = DependencyGroups.of(graph).group("stem");
        assertThat(stem.members()).extracting(m -> m.parameter() + " " + m.offset() + " " + m.width())
                .containsExactly("stem.weight 0 1", "stem.bias 0 1", "dw.weight 0 1", "dw.bias 0 2",
                        "sep.depthwise_weight 0 2", "sep.pointwise_weight 0 4");
        pruneEveryGroupByHalf(graph);

        Compaction.Result result = Compaction.compact(graph);

        assertThat(result.keptChannels().get("stem")).hasSize(2);
        assertThat(result.keptChannels().get("sep")).hasSize(3);
        assertThat(result.graph().getParam("sep_pW").shape()).containsExactly(3, 8, 1, 1);
        assertThat(maxDifference(graph, result.graph(), Graphs.batch(16, 2, 8, 8))).isLessThan(1e-4);
    }

    @Test
    void aGroupPinnedByANetworkOutputKeepsItsChannels() {
        ComputationGraph graph = Graphs.convolutionAsOutput();
        Pruning.of(graph).lnStructured("a.weight", Amount.count(2), Norm.L2, 0);

        Compaction.Result result = Compaction.compact(graph);

        assertThat(result.keptChannels()).isEmpty();
        assertThat(result.graph().getParam("a_W").shape()).containsExactly(4, 1, 3, 3);
    }
}
