package dev.shears.trainer.job;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.recipe.InputShape;
import dev.shears.common.recipe.PruningSpec;
import dev.shears.common.recipe.Recipe;
import dev.shears.prune.ChannelGroup;
import dev.shears.prune.Pruning;
import dev.shears.trainer.model.Models;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.learning.config.Sgd;

class PruningPlanTest {

    /** ResNet-8 of width 4 on 1x8x8: groups conv1 (stem + layer1's block), layer1..3 conv1s, layer2 and layer3's. */
    private static ComputationGraph resnet() {
        return Models.resnet(8, 4, new InputShape(1, 8, 8), 3, 1, new Sgd(0.1), 0);
    }

    private static PruningSpec spec(String pruning) {
        return Recipe.parse("job: a\nmodel: resnet\npruning:\n" + pruning).pruning();
    }

    private static final String GROUPS = "  method: ln_structured\n  structured:\n    groups: dependency\n";

    @Test
    void dependencyGroupsPrunedGloballyReachTheTargetToTheChannel() {
        ComputationGraph net = resnet();
        Pruning pruning = Pruning.of(net);
        PruningPlan plan = new PruningPlan(spec(GROUPS + "  scope: global\n"), 0.5, net, pruning, 1);

        plan.apply(pruning, 0.25, 1);
        assertThat(plan.achieved(pruning)).isEqualTo(0.25); // 56 channels in 6 groups: 14
        plan.apply(pruning, 0.5, 2);

        assertThat(plan.achieved(pruning)).isEqualTo(0.5);
        assertThat(plan.groups()).extracting(ChannelGroup::name).containsExactly("conv1", "layer1.0.conv1",
                "layer2.0.conv1", "layer2.0.conv2", "layer3.0.conv1", "layer3.0.conv2");
        assertThat(plan.names()).contains("conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv2.weight",
                "layer2.0.downsample.1.weight", "fc.weight").doesNotContain("bn1.running_mean");
    }

    @Test
    void eachGroupOnItsOwnUnlessGlobalAndAnOverrideFollowsItsOwnScaledTarget() {
        ComputationGraph net = resnet();
        Pruning pruning = Pruning.of(net);
        PruningPlan plan = new PruningPlan(spec(GROUPS + "  scope: local\n  overrides:\n"
                + "    - parameters: [\"layer3.*\"]\n      sparsity: 0.25\n"), 0.5, net, pruning, 1);

        plan.apply(pruning, 0.5, 1);

        // layer3's groups have 16 channels: 0.5 x 0.25 / 0.5 = 25 % of them go; every other group loses half
        assertThat(plan.prunedChannels(pruning)).containsExactly(Map.entry("conv1", 2), Map.entry("layer1.0.conv1", 2),
                Map.entry("layer2.0.conv1", 4), Map.entry("layer2.0.conv2", 4), Map.entry("layer3.0.conv1", 4),
                Map.entry("layer3.0.conv2", 4));
    }

    @Test
    void anExcludedLayerPinsTheGroupsItNormalisesAndMinChannelsBoundsWhatGoes() {
        ComputationGraph net = resnet();
        Pruning pruning = Pruning.of(net);
        PruningPlan plan = new PruningPlan(spec(GROUPS + "    minChannels: 3\n  scope: local\n"
                + "  exclude: [\"layer2.0.bn1.*\"]\n"), 0.9, net, pruning, 1);

        plan.apply(pruning, 0.9, 1);

        assertThat(plan.groups()).extracting(ChannelGroup::name).doesNotContain("layer2.0.conv1");
        // 0.9 of 16 channels is 14 pruned, 2 kept: minChannels keeps 3; of the stem group's 4, 1 goes
        assertThat(plan.prunedChannels(pruning)).containsEntry("conv1", 1).containsEntry("layer3.0.conv1", 13);
    }

    @Test
    void randomStructuredByGroupsPrunesEachGroupToTheTarget() {
        ComputationGraph net = resnet();
        Pruning pruning = Pruning.of(net);
        PruningPlan plan = new PruningPlan(spec("  method: random_structured\n  structured:\n    groups: dependency\n"),
                0.5, net, pruning, 1);

        plan.apply(pruning, 0.5, 1);

        assertThat(plan.achieved(pruning)).isEqualTo(0.5);
    }

    @Test
    void wildcardsSelectTheWeightsOfTheChosenKindsAndNeverTheBatchNorms() {
        ComputationGraph net = resnet();
        Pruning pruning = Pruning.of(net);

        PruningPlan every = new PruningPlan(spec("  parameters: [\"*\"]\n"), pruning, 1);
        PruningPlan dense = new PruningPlan(spec("  parameters: [\"*\"]\n  kinds: [dense]\n"), pruning, 1);

        assertThat(every.names()).contains("conv1.weight", "layer3.0.downsample.0.weight", "fc.weight")
                .noneMatch(n -> n.contains("bn") || n.contains("downsample.1") || n.endsWith(".bias"));
        assertThat(dense.names()).containsExactly("fc.weight");
    }

    @Test
    void overridesScaleUnstructuredTargetsToo() {
        ComputationGraph net = resnet();
        Pruning pruning = Pruning.of(net);
        PruningPlan plan = new PruningPlan(spec("  overrides:\n    - parameters: [\"fc.*\"]\n      sparsity: 0.1\n"),
                0.8, net, pruning, 1);

        plan.apply(pruning, 0.4, 1);

        assertThat(plan.layerSparsity(pruning).get("fc.weight")).isCloseTo(0.05, org.assertj.core.data.Offset.offset(0.02));
    }

    @Test
    void thePlanWithoutAModelRefusesDependencyGroupsNamingTheFix() {
        assertThatThrownBy(() -> new PruningPlan(spec(GROUPS), Pruning.of(resnet()), 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pruning.structured.groups dependency needs the model");
        assertThatThrownBy(() -> new PruningPlan(spec(GROUPS + "  kinds: [dense]\n"), 0.5, resnet(), Pruning.of(resnet()), 1))
                .hasMessageContaining("select no prunable group");
    }
}
