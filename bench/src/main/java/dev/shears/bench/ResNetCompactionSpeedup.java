package dev.shears.bench;

import dev.shears.common.data.InputShape;
import dev.shears.common.process.SerialFilter;
import dev.shears.prune.Amount;
import dev.shears.prune.ChannelGroup;
import dev.shears.prune.ChannelLimits;
import dev.shears.prune.Compaction;
import dev.shears.prune.GroupImportance;
import dev.shears.prune.Pruning;
import dev.shears.trainer.cpu.CpuAcceleration;
import dev.shears.trainer.cpu.FusedInference;
import dev.shears.trainer.cpu.OneDnnConvolution;
import dev.shears.trainer.model.Models;
import dev.shears.trainer.model.TrainableModel;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The ResNet graph compacted after structured pruning by dependency groups, against the same graph at full shapes:
 * a CIFAR ResNet for Fashion-MNIST (1x28x28, 10 classes) whose every prunable group is pruned to {@code --keep} of
 * its channels (L2 group norms, each group on its own, as the recipe {@code resnet20-fmnist-structured} does), made
 * permanent and compacted; both run inference alternately in one JVM, block by block (the order flips every pair),
 * so that other work on the machine slows both alike. The speed-up is the median of the per-pair ratios.
 *
 * <p>Prints one line per batch size, {@code CASE key=value ...}: depth, width, batch, parameters and FLOPs per example
 * of both, the largest output difference, the median ms per call of each, the median ratio and its quartiles.
 * {@code bench/compacted-resnet.sh} runs it on one pinned thread next to {@code bench/torch_resnet.py}, the same
 * architecture in PyTorch.
 *
 * <pre>
 * taskset -c 0 env OMP_NUM_THREADS=1 java -XX:ActiveProcessorCount=1 -cp bench/target/benchmarks.jar \
 *     dev.shears.bench.ResNetCompactionSpeedup [--depth 20] [--width 16] [--keep 0.5] [--batches 1,64]
 * </pre>
 */
@Command(name = "ResNetCompactionSpeedup", mixinStandardHelpOptions = true,
        description = "A ResNet compacted by dependency groups against its full shapes, timed in turns in one JVM.")
public final class ResNetCompactionSpeedup implements Runnable {
    @Option(names = "--depth", description = "6n+2 (default: 20)")
    int depth = 20;

    @Option(names = "--width", description = "the first stage's channels (default: 16)")
    int width = 16;

    @Option(names = "--keep", description = "the fraction of every group's channels kept (default: 0.5)")
    double keep = 0.5;

    @Option(names = "--batches", split = ",", description = "batch sizes (default: 1,64)")
    List<Integer> batches = List.of(1, 64);

    @Option(names = "--path", defaultValue = "dl4j",
            description = "what runs both graphs: dl4j (DL4J's output() with its oneDNN helper, what a published"
                    + " model gets in a plain DL4J program), shears (DL4J's output() on Shears' cached oneDNN"
                    + " convolutions, what a job evaluates on) or fused (the graphs compiled by FusedInference:"
                    + " batch norms folded, activations and residual adds fused) (default ${DEFAULT-VALUE})")
    InferencePath path;

    /** A graph's forward pass on one of the paths. */
    interface Inference {
        INDArray output(INDArray input);
    }

    /** Which code runs the graphs. */
    enum InferencePath {
        dl4j,
        shears,
        fused
    }

    @Mixin
    Turns turns;

    public static void main(String[] args) {
        SerialFilter.install();
        System.exit(new CommandLine(new ResNetCompactionSpeedup()).execute(args));
    }

    @Override
    public void run() {
        System.out.println("CPU " + CpuAcceleration.enable());
        InputShape shape = InputShape.FASHION_MNIST;
        TrainableModel full = TrainableModel.of(Models.resnet(depth, width, shape, 10, BenchModels.SEED,
                new Nesterovs(0.05, 0.9), 0), shape);
        Pruning pruning = full.newPruning();
        for (ChannelGroup g : full.dependencyGroups().prunable()) {
            pruning.groupStructured(g, Amount.fraction(1 - keep), GroupImportance.L2, ChannelLimits.KEEP_ONE);
        }
        pruning.removeAll();
        Compaction.Result result = full.compact();
        TrainableModel small = full.with(result.model());
        Inference dense = full::output;
        Inference compacted = small::output;
        if (path == InferencePath.shears) {
            System.out.println("SHEARS_CONVOLUTIONS dense=" + OneDnnConvolution.install((ComputationGraph) full.model())
                    + " compacted=" + OneDnnConvolution.install((ComputationGraph) small.model()));
        } else if (path == InferencePath.fused) {
            FusedInference fusedDense = FusedInference.compile((ComputationGraph) full.model());
            FusedInference fusedSmall = FusedInference.compile((ComputationGraph) small.model());
            System.out.println("FUSED dense=\"" + fusedDense.summary() + "\" compacted=\"" + fusedSmall.summary()
                    + "\"");
            dense = fusedDense::output;
            compacted = fusedSmall::output;
        }
        for (int batch : batches) {
            Nd4j.getRandom().setSeed(batch);
            INDArray x = Nd4j.rand(DataType.FLOAT, batch, 1, 28, 28);
            // every path against DL4J's own outputs of the masked graph
            INDArray reference = full.output(x);
            double diff = Math.max(compacted.output(x).sub(reference).amaxNumber().doubleValue(),
                    dense.output(x).sub(reference).amaxNumber().doubleValue());
            if (diff > BenchModels.TOLERANCE) {
                throw new IllegalStateException("the " + path + " path's outputs differ from DL4J's by " + diff);
            }
            Inference a = dense;
            Inference b = compacted;
            Turns.Result r = turns.time(() -> a.output(x), () -> b.output(x));
            System.out.printf(Locale.ROOT, "CASE impl=%s depth=%d width=%d keep=%s batch=%d params_before=%d"
                    + " params_after=%d flops_before=%d flops_after=%d max_diff=%.3e block=%d pairs=%d dense_ms=%.4f"
                    + " compacted_ms=%.4f speedup=%.4f q1=%.4f q3=%.4f%n", path, depth, width, keep, batch,
                    full.numParams(), small.numParams(), full.cost().flops(), small.cost().flops(), diff, r.block(),
                    turns.pairs, r.aMicros() / 1e3, r.bMicros() / 1e3, r.ratio(), r.q1(), r.q3());
        }
    }
}
