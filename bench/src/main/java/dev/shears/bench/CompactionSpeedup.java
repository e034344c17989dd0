package dev.shears.bench;

import dev.shears.common.process.SerialFilter;
import dev.shears.prune.Compaction;
import dev.shears.prune.ModelCost;
import dev.shears.trainer.cpu.CpuAcceleration;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.stream.Collectors;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine;
import picocli.CommandLine.Command;
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
 *     [--models lenet5,vgg] [--sparsities 0.5,0.75] [--batches 1,256] [--pairs 21] [--block-ms 150]
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

    @Option(names = "--pairs", description = "alternating pairs of blocks per case (default: 21)")
    int pairs = 21;

    @Option(names = "--block-ms", description = "about how long one block of calls lasts, ms (default: 150)")
    double blockMs = 150;

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
                    int block = callsPerBlock(pruned, x, blockMs);
                    double[] r = interleaved(pruned, small, x, block, pairs, Math.max(2, block));
                    System.out.printf(Locale.ROOT, "CASE model=%s sparsity=%s batch=%d kept=%s params_before=%d"
                            + " params_after=%d flops_before=%d flops_after=%d max_diff=%.3e block=%d pairs=%d"
                            + " dense_us=%.2f compacted_us=%.2f speedup=%.4f q1=%.4f q3=%.4f%n",
                            model, s, batch, kept.isEmpty() ? "none" : kept, compacted.parametersBefore(),
                            compacted.parametersAfter(), flopsBefore, flopsAfter, diff, block, pairs, r[0], r[1], r[2],
                            r[3], r[4]);
                }
            }
        }
    }

    /** How many calls of {@code net} on {@code x} take about {@code blockMs}, from a few timed calls after warm-up. */
    private static int callsPerBlock(MultiLayerNetwork net, INDArray x, double blockMs) {
        for (int i = 0; i < 3; i++) {
            net.output(x);
        }
        long t0 = System.nanoTime();
        int calls = 0;
        while (System.nanoTime() - t0 < 50_000_000L || calls < 2) {
            net.output(x);
            calls++;
        }
        double msPerCall = (System.nanoTime() - t0) / 1e6 / calls;
        return (int) Math.max(1, Math.round(blockMs / msPerCall));
    }

    /**
     * {@code a} and {@code b} run alternately on {@code x}, {@code block} calls each, {@code pairs} times (the order
     * flips every pair) after {@code warmup} calls each. Returns the median microseconds per call of a and of b (over
     * blocks), the median of the per-pair ratios a/b, and its quartiles.
     */
    static double[] interleaved(MultiLayerNetwork a, MultiLayerNetwork b, INDArray x, int block, int pairs,
            int warmup) {
        return inTurns(() -> a.output(x), () -> b.output(x), block, pairs, warmup);
    }

    /** As {@link #interleaved}, for any two calls {@code a} and {@code b}. */
    static double[] inTurns(Runnable a, Runnable b, int block, int pairs, int warmup) {
        for (int i = 0; i < warmup; i++) {
            a.run();
            b.run();
        }
        double[] ta = new double[pairs];
        double[] tb = new double[pairs];
        double[] ratio = new double[pairs];
        for (int p = 0; p < pairs; p++) {
            boolean aFirst = p % 2 == 0;
            double first = block(aFirst ? a : b, block);
            double second = block(aFirst ? b : a, block);
            ta[p] = aFirst ? first : second;
            tb[p] = aFirst ? second : first;
            ratio[p] = ta[p] / tb[p];
        }
        double[] sorted = ratio.clone();
        Arrays.sort(sorted);
        return new double[]{SideBySide.median(ta), SideBySide.median(tb), SideBySide.median(ratio), sorted[pairs / 4],
                sorted[(3 * pairs) / 4]};
    }

    private static double block(Runnable call, int calls) {
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            call.run();
        }
        return (System.nanoTime() - t0) / 1e3 / calls;
    }
}
