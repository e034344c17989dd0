package dev.shears.trainer.train;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.data.InputShape;
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
        return Models.resnet(8, 4, InputShape.image(1, 8, 8), 3, 1, new Sgd(0.1), 0);
    }

    private static PruningSpec spec(String pruning) {
        return Recipe.parse("job: a\nmodel: resnet\npruning:\n" + pruning).pruning();
    }

    /** A fresh ResNet-8, its pruning state, and the plan the recipe's pruning section makes for it. */
    private record Planned(Pruning pruning, PruningPlan plan) {
        /** Prunes to {@code target} at step {@code step}. */
        Planned apply(double target, int step) {
            plan.apply(pruning, target, step);
            return this;
        }

        double achieved() {
            return plan.achieved(pruning);
        }

        Map<String, Integer> prunedChannels() {
            return plan.prunedChannels(pruning);
        }
    }

    private static Planned plan(String pruning, double finalSparsity) {
        ComputationGraph net = resnet();
        Pruning state = Pruning.of(net);
        return new Planned(state, new PruningPlan(spec(pruning), finalSparsity, net, state, 1));
    }

    private static final String GROUPS = "  method: ln_structured\n  structured:\n    groups: dependency\n";

    @Test
    void dependencyGroupsPrunedGloballyReachTheTargetToTheChannel() {
        Planned p = plan(GROUPS + "  scope: global\n", 0.5);

        assertThat(p.apply(0.25, 1).achieved()).isEqualTo(0.25); // 56 channels in 6 groups: 14
        assertThat(p.apply(0.5, 2).achieved()).isEqualTo(0.5);
        PruningPlan plan = p.plan();
        assertThat(plan.groups()).extracting(ChannelGroup::name).containsExactly("conv1", "layer1.0.conv1",
                "layer2.0.conv1", "layer2.0.conv2", "layer3.0.conv1", "layer3.0.conv2");
        assertThat(plan.names()).contains("conv1.weight", "bn1.weight", "bn1.bias", "layer1.0.conv2.weight",
                "layer2.0.downsample.1.weight", "fc.weight").doesNotContain("bn1.running_mean");
    }

    @Test
    void eachGroupOnItsOwnUnlessGlobalAndAnOverrideFollowsItsOwnScaledTarget() {
        Planned p = plan(GROUPS + "  scope: local\n  overrides:\n"
                + "    - parameters: [\"layer3.*\"]\n      sparsity: 0.25\n", 0.5);

        // layer3's groups have 16 channels: 0.5 x 0.25 / 0.5 = 25 % of them go; every other group loses half
        assertThat(p.apply(0.5, 1).prunedChannels()).containsExactly(Map.entry("conv1", 2),
                Map.entry("layer1.0.conv1", 2),
                Map.entry("layer2.0.conv1", 4), Map.entry("layer2.0.conv2", 4), Map.entry("layer3.0.conv1", 4),
                Map.entry("layer3.0.conv2", 4));
    }

    @Test
    void anExcludedLayerPinsTheGroupsItNormalisesAndMinChannelsBoundsWhatGoes() {
        Planned p = plan(GROUPS + "    minChannels: 3\n  scope: local\n"
                + "  exclude: [\"layer2.0.bn1.*\"]\n", 0.9);

        assertThat(p.plan().groups()).extracting(ChannelGroup::name).doesNotContain("layer2.0.conv1");
        // 0.9 of 16 channels is 14 pruned, 2 kept: minChannels keeps 3; of the stem group's 4, 1 goes
        assertThat(p.apply(0.9, 1).prunedChannels()).containsEntry("conv1", 1).containsEntry("layer3.0.conv1", 13);
    }

    @Test
    void randomStructuredByGroupsPrunesEachGroupToTheTarget() {
        Planned p = plan("  method: random_structured\n  structured:\n    groups: dependency\n", 0.5);

        assertThat(p.apply(0.5, 1).achieved()).isEqualTo(0.5);
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
        Planned p = plan("  overrides:\n    - parameters: [\"fc.*\"]\n      sparsity: 0.1\n", 0.8).apply(0.4, 1);

        // fc alone to 0.4 x 0.1 / 0.8 = 5 % of its 16 x 3 weights: 2.4, rounded to 2; the rest 40 % together
        assertThat(p.plan().layerSparsity(p.pruning()).get("fc.weight")).isEqualTo(2.0 / 48);
        assertThat(p.plan().layerSparsity(p.pruning()).get("conv1.weight")).isPositive();
    }

    @Test
    void thePlanWithoutAModelRefusesDependencyGroupsNamingTheFix() {
        assertThatThrownBy(() -> new PruningPlan(spec(GROUPS), Pruning.of(resnet()), 1))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("pruning.structured.groups dependency needs the model");
        assertThatThrownBy(
                () -> new PruningPlan(spec(GROUPS + "  kinds: [dense]\n"), 0.5, resnet(), Pruning.of(resnet()), 1))
                .hasMessageContaining("select no prunable group");
    }
}
