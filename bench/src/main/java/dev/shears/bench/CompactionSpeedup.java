package dev.shears.bench;

import dev.shears.common.process.SerialFilter;
import dev.shears.prune.Compaction;
import dev.shears.prune.ModelCost;
import dev.shears.trainer.cpu.CpuAcceleration;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The compaction speed-up as a ratio taken in turns: for each model, filter sparsity and batch size, the pruned
 * network at full shapes and its compacted copy (as in {@link CompactionBenchmark}) run alternately in one JVM,
 * block by block (the order flips every pair; a block lasts about {@code --block-ms}), so that other work on the
 * machine slows both alike. The speed-up is the median of the per-pair ratios dense / compacted.
 *
 * <p>Prints one line per case, {@code CASE key=value ...}: model, sparsity, batch, kept channels per layer,
 * parameters and FLOPs per example before and after, the largest output difference, the median block time per call
 * of each (microseconds), the median ratio and its quartiles.
 *
 * <pre>
 * OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE java -cp bench/target/benchmarks.jar dev.shears.bench.CompactionSpeedup \
 *     [--models lenet5,vgg] [--sparsities 0.5,0.75] [--batches 1,256] [--pairs 21] [--block-ms 200]
 * </pre>
 */
@Command(name = "CompactionSpeedup", mixinStandardHelpOptions = true,
        description = "Compacted vs uncompacted inference, timed in turns in one JVM.")
public final class CompactionSpeedup implements Runnable {

    @Option(names = "--models", split = ",", description = "lenet5, vgg (default: both)")
    List<String> models = BenchModels.NAMES;

    @Option(names = "--sparsities", split = ",", description = "filter sparsities (default: 0.5,0.75)")
    List<Double> sparsities = List.of(0.5, 0.75);

    @Option(names = "--batches", split = ",", description = "batch sizes (default: 1,256)")
    List<Integer> batches = List.of(1, 256);

    @Mixin
    Turns turns;

    public static void main(String[] args) {
        SerialFilter.install();
        System.exit(new CommandLine(new CompactionSpeedup()).execute(args));
    }

    @Override
    public void run() {
        System.out.println("CPU " + CpuAcceleration.enable());
        for (String model : models) {
            for (double s : sparsities) {
                MultiLayerNetwork pruned = BenchModels.build(model);
                long flopsBefore = ModelCost.of(pruned).flops();
                Compaction.Result compacted = BenchModels.pruneStructuredAndCompact(pruned, s);
                MultiLayerNetwork small = compacted.network();
                long flopsAfter = ModelCost.of(small).flops();
                String kept = compacted.keptChannels().entrySet().stream()
                        .map(e -> e.getKey() + ":" + e.getValue().length).collect(Collectors.joining(","));
                for (int batch : batches) {
                    INDArray x = BenchModels.input(batch);
                    double diff = BenchModels.checkSameOutputs(pruned, small, x, model + " at " + s);
                    Turns.Result r = turns.time(() -> pruned.output(x), () -> small.output(x));
                    System.out.printf(Locale.ROOT, "CASE model=%s sparsity=%s batch=%d kept=%s params_before=%d"
                            + " params_after=%d flops_before=%d flops_after=%d max_diff=%.3e block=%d pairs=%d"
                            + " dense_us=%.2f compacted_us=%.2f speedup=%.4f q1=%.4f q3=%.4f%n",
                            model, s, batch, kept.isEmpty() ? "none" : kept, compacted.parametersBefore(),
                            compacted.parametersAfter(), flopsBefore, flopsAfter, diff, r.block(), turns.pairs,
                            r.aMicros(),
                            r.bMicros(), r.ratio(), r.q1(), r.q3());
                }
            }
        }
    }
}
