package dev.shears.prune.examples;

import dev.shears.prune.Amount;
import dev.shears.prune.PrunableParameter;
import dev.shears.prune.Pruning;
import dev.shears.prune.SparsityReport;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.deeplearning4j.zoo.model.ResNet50;

/**
 * Prunes DL4J's zoo ResNet-50 (a ComputationGraph of 53 convolutions, 53 batch norms and one dense
 * layer, random weights) two ways and prints both sparsity reports: 30 % of every layer by
 * magnitude, then, on a fresh copy, 30 % of all weights together (global magnitude pruning).
 *
 * <p>The zoo draws every layer's weights from the same truncated N(0, 0.5), which would make global
 * pruning look like per-layer pruning; here they get He initialisation (std sqrt(2 / fan-in)), so
 * that, as in real ResNets, layers differ in scale: global pruning then takes far more from layers
 * of large fan-in than from narrow ones.
 *
 * <p>Run it from an IDE, or from the repository root:
 * <pre>
 * mvn -pl prune test-compile dependency:build-classpath -Dmdep.includeScope=test -Dmdep.outputFile=target/cp.txt
 * java -cp "$(cat prune/target/cp.txt):prune/target/classes:prune/target/test-classes" \
 *     dev.shears.prune.examples.ResNet50Pruning
 * </pre>
 * About 10 s and 2.6 GB (resident) on 2 cores.
 */
public final class ResNet50Pruning {
    private ResNet50Pruning() {}

    /**
     * ResNet-50 for {@code side x side} RGB images and 1000 classes, He-initialised, seeded. The
     * parameters do not depend on {@code side}; 224 is what the network was made for (64 is too
     * small for DL4J's configuration of its last pooling).
     */
    public static ComputationGraph resnet50(int side, long seed) {
        return ResNet50.builder().numClasses(1000).seed(seed).inputShape(new int[]{3, side, side})
                .weightInit(WeightInit.RELU.getWeightInitFunction()).build().init();
    }

    /** The names of the convolution and dense weights: no biases, no batch norm. */
    public static List<String> prunableWeights(Pruning pruning) {
        return pruning.prunableWeights().stream().map(PrunableParameter::name).toList();
    }

    public static void main(String[] args) {
        int side = 224;
        long t0 = System.nanoTime();
        ComputationGraph graph = resnet50(side, 42);
        ComputationGraph fresh = graph.clone();
        System.out.printf(Locale.ROOT, "ResNet-50, %dx%dx3 input, %,d parameters in %d tensors, built in %.1f s%n",
                side, side, graph.numParams(), Pruning.of(graph).parameters().size(), seconds(t0));

        Pruning perLayer = Pruning.of(graph);
        List<String> names = prunableWeights(perLayer);
        Map<String, List<PrunableParameter>> byKind = perLayer.parameters().stream().collect(Collectors.groupingBy(
                p -> p.kind() + (names.contains(p.name()) ? " weight (pruned)" : " " + p.attribute()), TreeMap::new,
                Collectors.toList()));
        byKind.forEach((kind, params) -> System.out.printf(Locale.ROOT, "  %-40s %3d tensors %,12d entries%n",
                kind, params.size(), params.stream().mapToLong(PrunableParameter::size).sum()));

        t0 = System.nanoTime();
        names.forEach(name -> perLayer.l1Unstructured(name, Amount.fraction(0.3)));
        SparsityReport local = perLayer.report(names);
        System.out.printf(Locale.ROOT, "%nl1Unstructured 30 %% of every layer (%.1f s):%n%s", seconds(t0), local);

        t0 = System.nanoTime();
        Pruning global = Pruning.of(fresh).globalUnstructured(names, Amount.fraction(0.3));
        SparsityReport together = global.report(names);
        System.out.printf(Locale.ROOT, "%nglobalUnstructured 30 %% over all of them (%.1f s):%n%s", seconds(t0),
                together);
        System.out.printf(Locale.ROOT, "%nper-layer sparsity: %s; global: %s%n", range(local), range(together));

        global.removeAll();
        System.out.printf(Locale.ROOT, "after removeAll: pruned=%s, zeros kept=%,d%n",
                global.isPruned(), global.report(names).total().zeros());
    }

    /** The smallest and largest per-parameter sparsity of a report. */
    public static String range(SparsityReport report) {
        var stats = report.parameters().stream().mapToDouble(SparsityReport.Entry::sparsity).summaryStatistics();
        return String.format(Locale.ROOT, "%.2f %% .. %.2f %% per layer, %.2f %% in all",
                100 * stats.getMin(), 100 * stats.getMax(), 100 * report.total().sparsity());
    }

    private static double seconds(long since) {
        return (System.nanoTime() - since) / 1e9;
    }
}
