package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;

import dev.shears.prune.examples.ResNet50Pruning;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/** DL4J's zoo ResNet-50 (random weights, 224x224): a deep ComputationGraph pruned per layer and globally. */
@Tag("slow")
class ResNet50PruningTest {
    private static ComputationGraph resnet;
    private static List<String> weights;

    @BeforeAll
    static void build() {
        resnet = ResNet50Pruning.resnet50(224, 42);
        weights = ResNet50Pruning.prunableWeights(Pruning.of(resnet));
    }

    @Test
    void prunesTheConvolutionAndDenseWeightsButNoBatchNormOrBias() {
        Pruning pruning = Pruning.of(resnet);
        Map<LayerKind, Long> byKind = pruning.prunableWeights().stream()
                .collect(Collectors.groupingBy(PrunableParameter::kind, Collectors.counting()));

        assertThat(byKind).containsOnly(Map.entry(LayerKind.CONVOLUTION, 53L), Map.entry(LayerKind.DENSE, 1L));
        assertThat(weights).contains("stem-cnn1.weight", "res5c_branch2c.weight", "output.weight")
                .noneMatch(name -> name.endsWith(".bias")).doesNotContain("bn2a_branch2a.weight");
        assertThat(pruning.parameters().stream().filter(p -> p.kind() == LayerKind.NORMALIZATION)).hasSize(4 * 53);
        assertThat(pruning.report(weights).total().size()).isEqualTo(25_502_912L);
    }

    @Test
    void l1PerLayerPrunesThirtyPercentOfEveryLayer() {
        Pruning pruning = Pruning.of(resnet.clone());

        weights.forEach(name -> pruning.l1Unstructured(name, Amount.fraction(0.3)));

        SparsityReport report = pruning.report(weights);
        System.out.println("ResNet-50, l1Unstructured 30 % per layer: " + ResNet50Pruning.range(report));
        for (SparsityReport.Entry e : report.parameters()) {
            assertThat(e.masked()).as(e.name()).isEqualTo((long) Math.rint(0.3 * e.size())).isEqualTo(e.zeros());
        }
    }

    @Test
    void globalPruningIsThirtyPercentInAllButUnevenPerLayerUntilRemoveAllMakesItPermanent() {
        ComputationGraph graph = resnet.clone();
        Pruning pruning = Pruning.of(graph);

        pruning.globalUnstructured(weights, Amount.fraction(0.3));

        SparsityReport report = pruning.report(weights);
        System.out.println("ResNet-50, globalUnstructured 30 %:\n" + report + ResNet50Pruning.range(report));
        assertThat(report.total().masked()).isEqualTo((long) Math.rint(0.3 * 25_502_912L))
                .isEqualTo(report.total().zeros());
        var sparsity = report.parameters().stream().mapToDouble(SparsityReport.Entry::sparsity).summaryStatistics();
        assertThat(sparsity.getMin()).as("narrow layers (fan-in 64) keep most").isLessThan(0.1);
        assertThat(sparsity.getMax()).as("wide layers (fan-in 4608) lose most").isGreaterThan(0.4);
        assertThat(report.entry("res2a_branch2a.weight").sparsity())
                .isLessThan(report.entry("res5a_branch2b.weight").sparsity());

        var paramsBefore = graph.params().dup();
        pruning.removeAll();

        assertThat(pruning.isPruned()).isFalse();
        assertThat(pruning.stateDict().keySet()).noneMatch(k -> k.endsWith("_mask") || k.endsWith("_orig"));
        Bits.assertSame(graph.params(), paramsBefore, "parameters after removeAll");
        assertThat(pruning.report(weights).total().zeros()).isEqualTo(report.total().zeros());
    }

    @Test
    void dependencyGroupsTieEveryStagesResidualOutputsTogether() {
        DependencyGroups groups = DependencyGroups.of(resnet);

        // the stem, two inner groups per bottleneck block (16 blocks), one group per stage (4)
        assertThat(groups.all()).hasSize(1 + 2 * 16 + 4);
        assertThat(groups.prunable()).hasSameSizeAs(groups.all());
        ChannelGroup stage2 = groups.groupOf("res2a_branch1").orElseThrow();
        assertThat(stage2.producers()).containsExactlyInAnyOrder("res2a_branch1", "res2a_branch2c", "res2b_branch2c",
                "res2c_branch2c");
        assertThat(stage2.channels()).isEqualTo(256);
        assertThat(groups.groupOf("res5c_branch2c").orElseThrow().members())
                .anyMatch(m -> m.parameter().equals("output.weight") && m.role() == ChannelGroup.Role.INPUT);
    }

    @Test
    void prunedByGroupsToHalfItCompactsToAQuarterOfItsParametersWithTheSameOutputs() {
        ComputationGraph graph = resnet.clone();
        Pruning pruning = Pruning.of(graph);
        DependencyGroups groups = DependencyGroups.of(graph);
        groups.prunable().forEach(g -> pruning.groupStructured(g, Amount.fraction(0.5), GroupImportance.L2));
        org.nd4j.linalg.api.ndarray.INDArray x = org.nd4j.linalg.factory.Nd4j.rand(
                org.nd4j.linalg.factory.Nd4j.getRandomFactory().getNewRandomInstance(1), 1, 3, 224, 224);

        Compaction.Result result = Compaction.compact(graph);

        System.out.println("ResNet-50, every group pruned to half its channels: " + result.parametersBefore() + " -> "
                + result.parametersAfter() + " parameters");
        assertThat(result.keptChannels()).hasSize(groups.all().size());
        // a convolution between two halved groups keeps a quarter of its weights
        assertThat(result.parametersAfter()).isLessThan(result.parametersBefore() * 3 / 10);
        double diff = result.graph().outputSingle(false, x).sub(graph.outputSingle(false, x)).amaxNumber()
                .doubleValue();
        assertThat(diff).isLessThan(1e-4);
    }
}
