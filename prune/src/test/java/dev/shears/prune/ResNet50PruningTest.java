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
        assertThat(report.total().masked()).isEqualTo((long) Math.rint(0.3 * 25_502_912L)).isEqualTo(report.total().zeros());
        var sparsity = report.parameters().stream().mapToDouble(SparsityReport.Entry::sparsity).summaryStatistics();
        assertThat(sparsity.getMin()).as("narrow layers (fan-in 64) keep most").isLessThan(0.1);
        assertThat(sparsity.getMax()).as("wide layers (fan-in 4608) lose most").isGreaterThan(0.4);
        assertThat(report.entry("res2a_branch2a.weight").sparsity()).isLessThan(report.entry("res5a_branch2b.weight").sparsity());

        var paramsBefore = graph.params().dup();
        pruning.removeAll();

        assertThat(pruning.isPruned()).isFalse();
        assertThat(pruning.stateDict().keySet()).noneMatch(k -> k.endsWith("_mask") || k.endsWith("_orig"));
        Bits.assertSame(graph.params(), paramsBefore, "parameters after removeAll");
        assertThat(pruning.report(weights).total().zeros()).isEqualTo(report.total().zeros());
    }
}
