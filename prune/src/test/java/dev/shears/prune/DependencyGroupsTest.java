package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.layers.LocalResponseNormalization;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;

/** Groups computed from graphs, against groups worked out by hand from the architecture. */
class DependencyGroupsTest {

    /** "parameter dim offset width ROLE", the form the expectations below are written in. */
    private static List<String> members(ChannelGroup g) {
        return g.members().stream().map(m -> m.parameter() + " " + m.dim() + " " + m.offset() + " " + m.width() + " "
                + m.role()).toList();
    }

    private static List<String> bn(String layer) {
        return List.of(layer + ".weight 0 0 1 NORM_SCALE", layer + ".bias 0 0 1 NORM_SHIFT",
                layer + ".running_mean 0 0 1 NORM_STATISTIC", layer + ".running_var 0 0 1 NORM_STATISTIC");
    }

    private static List<String> concat(List<String>... parts) {
        return java.util.Arrays.stream(parts).flatMap(List::stream).toList();
    }

    @Test
    void aResidualAdditionTiesItsInputsChannelsIntoOneGroup() {
        DependencyGroups groups = DependencyGroups.of(Graphs.residual());

        assertThat(groups.all()).extracting(ChannelGroup::name).containsExactly("stem", "a1", "b1", "b2");
        assertThat(groups.prunable()).hasSize(4);

        ChannelGroup stem = groups.group("stem");
        assertThat(stem.channels()).isEqualTo(4);
        assertThat(stem.producers()).containsExactly("stem", "a2");
        assertThat(members(stem)).containsExactlyElementsOf(concat(
                List.of("stem.weight 0 0 1 OUTPUT"), bn("stem_bn"),
                List.of("a1.weight 1 0 1 INPUT", "a2.weight 0 0 1 OUTPUT"), bn("a2_bn"),
                List.of("b1.weight 1 0 1 INPUT", "proj.weight 1 0 1 INPUT")));

        assertThat(members(groups.group("a1"))).containsExactlyElementsOf(concat(
                List.of("a1.weight 0 0 1 OUTPUT"), bn("a1_bn"), List.of("a2.weight 1 0 1 INPUT")));
        assertThat(members(groups.group("b1"))).containsExactlyElementsOf(concat(
                List.of("b1.weight 0 0 1 OUTPUT"), bn("b1_bn"), List.of("b2.weight 1 0 1 INPUT")));

        ChannelGroup b2 = groups.group("b2");
        assertThat(b2.producers()).containsExactly("b2", "proj");
        assertThat(members(b2)).containsExactlyElementsOf(concat(
                List.of("b2.weight 0 0 1 OUTPUT"), bn("b2_bn"), List.of("proj.weight 0 0 1 OUTPUT"), bn("proj_bn"),
                List.of("out.weight 1 0 1 INPUT")));
        assertThat(groups.groupOf("proj")).contains(b2);
    }

    @Test
    void aDepthwiseConvolutionPassesItsChannelsThroughAndTheBlocksAdditionJoinsTheStem() {
        DependencyGroups groups = DependencyGroups.of(Graphs.mobileBlock());

        assertThat(groups.all()).extracting(ChannelGroup::name).containsExactly("stem", "expand");
        ChannelGroup stem = groups.group("stem");
        assertThat(stem.producers()).containsExactly("stem", "project");
        assertThat(members(stem)).containsExactlyElementsOf(concat(
                List.of("stem.weight 0 0 1 OUTPUT"), bn("stem_bn"), List.of("expand.weight 1 0 1 INPUT",
                        "project.weight 0 0 1 OUTPUT"),
                bn("project_bn"), List.of("out.weight 1 0 1 INPUT")));
        ChannelGroup expand = groups.group("expand");
        assertThat(expand.channels()).isEqualTo(16);
        assertThat(members(expand)).containsExactlyElementsOf(concat(
                List.of("expand.weight 0 0 1 OUTPUT"), bn("expand_bn"), List.of("dw.weight 0 0 1 DEPTHWISE"),
                bn("dw_bn"), List.of("project.weight 1 0 1 INPUT")));
    }

    @Test
    void concatenationsOffsetTheirInputsChannelsAndFlatteningSpreadsEachOverItsPixels() {
        DependencyGroups groups = DependencyGroups.of(Graphs.concatenating());

        assertThat(groups.all()).extracting(ChannelGroup::name).containsExactly("a", "b", "c", "fc");
        // m = [a(3), b(2)]; m2 = [pool_c(4), pool_m(5)] flattened at 4x4 = 16 features a channel
        assertThat(members(groups.group("a"))).containsExactly("a.weight 0 0 1 OUTPUT", "a.bias 0 0 1 BIAS",
                "c.weight 1 0 1 INPUT", "fc.weight 1 64 16 INPUT");
        assertThat(members(groups.group("b"))).containsExactly("b.weight 0 0 1 OUTPUT", "b.bias 0 0 1 BIAS",
                "c.weight 1 3 1 INPUT", "fc.weight 1 112 16 INPUT");
        assertThat(members(groups.group("c"))).containsExactly("c.weight 0 0 1 OUTPUT", "c.bias 0 0 1 BIAS",
                "fc.weight 1 0 16 INPUT");
        assertThat(members(groups.group("fc"))).containsExactly("fc.weight 0 0 1 OUTPUT", "fc.bias 0 0 1 BIAS",
                "out.weight 1 0 1 INPUT");
    }

    @Test
    void aSequentialNetworksGroupsAreItsLayersWithTheirReaders() {
        DependencyGroups groups = DependencyGroups.of(CompactionTest.lenet(false, true));

        assertThat(groups.all()).extracting(ChannelGroup::name).containsExactly("conv1", "conv2", "fc1", "fc2");
        assertThat(members(groups.group("conv1"))).containsExactlyElementsOf(concat(
                List.of("conv1.weight 0 0 1 OUTPUT", "conv1.bias 0 0 1 BIAS"),
                List.of("bn1.weight 0 0 1 NORM_SCALE", "bn1.bias 0 0 1 NORM_SHIFT",
                        "bn1.running_mean 0 0 1 NORM_STATISTIC",
                        "bn1.log10stdev 0 0 1 NORM_STATISTIC"),
                List.of("conv2.weight 1 0 1 INPUT")));
        // conv2's 16 channels reach fc1 flattened at 4x4 (28 → pool 14 → conv 10 → pool 5: 5x5 = 25 features)
        assertThat(members(groups.group("conv2"))).containsExactly("conv2.weight 0 0 1 OUTPUT", "conv2.bias 0 0 1 BIAS",
                "fc1.weight 1 0 25 INPUT");
    }

    @Test
    void channelsThatReachALayerItCannotSliceOrANetworkOutputPinTheirGroup() {
        ComputationGraphConfiguration conf = Graphs.base().graphBuilder()
                .addInputs("in")
                .addLayer("a", Graphs.conv(3, 4, 1, true), "in")
                .addLayer("lrn", new LocalResponseNormalization.Builder().build(), "a")
                .addLayer("b", Graphs.conv(3, 4, 1, true), "lrn")
                .addLayer("c", Graphs.conv(3, 5, 1, true), "b")
                .addLayer("c_act", Graphs.act(Activation.SIGMOID), "c")
                .setOutputs("c_act")
                .setInputTypes(InputType.convolutional(6, 6, 1))
                .build();
        DependencyGroups groups = DependencyGroups.of(Graphs.randomised(conf));

        assertThat(groups.group("a").reason()).hasValueSatisfying(
                r -> assertThat(r).contains("lrn (LocalResponseNormalization) mixes or reshapes channels"));
        assertThat(groups.group("b").prunable()).isTrue();
        assertThat(groups.group("c").reason()).hasValue("c_act is a network output");
        assertThat(groups.prunable()).extracting(ChannelGroup::name).containsExactly("b");
    }

    @Test
    void excludingALayerPinsTheGroupsItProducesOrNormalisesButNotThoseItOnlyReads() {
        DependencyGroups groups = DependencyGroups.of(Graphs.residual()).excluding(List.of("a2_bn", "out"));

        assertThat(groups.group("stem").reason()).hasValue("a2_bn is excluded");
        assertThat(groups.prunable()).extracting(ChannelGroup::name).containsExactly("a1", "b1", "b2");
    }

    @Test
    void pruningAGroupMasksTheSameChannelsInEveryMemberAndLeavesTheStatistics() {
        ComputationGraph graph = Graphs.residual();
        Pruning pruning = Pruning.of(graph);
        ChannelGroup stem = DependencyGroups.of(graph).group("stem");

        pruning.groupStructured(stem, Amount.fraction(0.5), GroupImportance.L2);

        boolean[] alive = pruning.aliveChannels(stem);
        assertThat(count(alive)).isEqualTo(2);
        for (ChannelGroup.Member m : stem.members()) {
            if (!m.role().masked()) {
                assertThat(pruning.isPruned(m.parameter())).as(m.parameter()).isFalse();
                continue;
            }
            boolean[] channels = dev.shears.prune.internal.Channels.alive(pruning.mask(m.parameter()), m.dim());
            assertThat(channels).as(m.parameter()).containsExactly(alive);
        }
        assertThat(pruning.isPruned("b2.weight")).isFalse();
    }

    @Test
    void aPinnedGroupIsRefusedWithItsReason() {
        ComputationGraph graph = Graphs.convolutionAsOutput();
        ChannelGroup a = DependencyGroups.of(graph).group("a");

        assertThatThrownBy(() -> Pruning.of(graph).groupStructured(a, Amount.fraction(0.5), GroupImportance.L2))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage(
                        "group a cannot be pruned: a is a network output (fix: prune only DependencyGroups.prunable())");
    }

    static int count(boolean[] b) {
        int n = 0;
        for (boolean x : b) {
            n += x ? 1 : 0;
        }
        return n;
    }
}
