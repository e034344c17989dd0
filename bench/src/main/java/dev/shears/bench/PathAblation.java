package dev.shears.bench;

import dev.shears.common.process.SerialFilter;
import dev.shears.common.recipe.Augmentation;
import dev.shears.trainer.cpu.CachedPreOutputs;
import dev.shears.trainer.cpu.CpuAcceleration;
import dev.shears.trainer.cpu.InputLayerGradients;
import dev.shears.trainer.cpu.MaxPooling;
import dev.shears.trainer.cpu.OneDnnConvolution;
import dev.shears.trainer.cpu.ReluGradients;
import dev.shears.trainer.cpu.UpdaterBlocks;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.Examples;
import dev.shears.trainer.data.LoadedDataset;
import dev.shears.trainer.model.Models;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.learning.config.Nesterovs;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * What each step of the job's training path ({@code dev.shears.trainer.train.TrainingPath}) is worth, in one JVM:
 * two LeNet-5 networks of the same seed on the same batches, one prepared with every step and one with every step
 * but the one measured, train in alternating blocks (the order flipping every pair), and the training thread's CPU
 * time per iteration is compared. Both see the same JIT, heap and machine load, so a few per cent show even on a
 * busy machine. Prints per step the median ratio (without / with: above 1, the step saves CPU), its quartiles, the
 * milliseconds per iteration of each and the largest relative difference between the two networks' parameters at
 * the end (0: the step leaves DL4J's numbers to the bit).
 *
 * <pre>
 * OMP_NUM_THREADS=1 taskset -c 0 java -XX:ActiveProcessorCount=1 -cp bench/target/benchmarks.jar \
 *     dev.shears.bench.PathAblation [--steps conv,dense,input,relu,pooling,updater,cache] [--pairs 20] [--block 50]
 * </pre>
 */
@Command(name = "PathAblation", mixinStandardHelpOptions = true,
        description = "Each training-path step's CPU time per iteration, in turns in one JVM.")
public final class PathAblation implements Callable<Integer> {
    /** The steps of TrainingPath, by name. */
    static final List<String> STEPS = List.of("cache", "dense", "conv", "input", "relu", "pooling", "updater");

    @Option(names = "--steps", split = ",", defaultValue = "conv,dense,input,relu,pooling,updater,cache",
            description = "steps to measure, each without the others left out (default ${DEFAULT-VALUE})")
    List<String> steps;

    @Option(names = "--pairs", defaultValue = "20", description = "pairs of blocks per step (default ${DEFAULT-VALUE})")
    int pairs;

    @Option(names = "--block", defaultValue = "50", description = "iterations per block (default ${DEFAULT-VALUE})")
    int block;

    @Option(names = "--warmup", defaultValue = "800",
            description = "iterations of each network first (default ${DEFAULT-VALUE})")
    int warmup;

    @Option(names = "--data", description = "Fashion-MNIST IDX files (default: ${DEFAULT-VALUE})")
    Path data = BenchModels.FASHION_MNIST;

    public static void main(String[] args) {
        SerialFilter.install();
        System.exit(new CommandLine(new PathAblation()).execute(args));
    }

    @Override
    public Integer call() {
        for (String step : steps) {
            if (!STEPS.contains(step)) {
                throw new CommandLine.ParameterException(new CommandLine(this),
                        "unknown step '" + step + "': the steps are " + STEPS);
            }
        }
        System.out.println("RESULT cpu=" + CpuAcceleration.enable());
        Examples train = LoadedDataset.read(data).trainExamples().flat();
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        for (String step : steps) {
            MultiLayerNetwork with = Models.lenet5(42, new Nesterovs(0.01, 0.9), 0);
            MultiLayerNetwork without = with.clone();
            prepare(with, null);
            prepare(without, step);
            Batches a = Batches.shuffled(train, BenchModels.FASHION_MNIST_FLAT, 64, 42, Augmentation.NONE);
            Batches b = Batches.shuffled(train, BenchModels.FASHION_MNIST_FLAT, 64, 42, Augmentation.NONE);
            for (int i = 0; i < warmup; i++) {
                with.fit(a.next());
                without.fit(b.next());
            }
            double[] ratios = new double[pairs];
            long withNanos = 0;
            long withoutNanos = 0;
            for (int p = 0; p < pairs; p++) {
                long w = 0;
                long wo = 0;
                for (int turn = 0; turn < 2; turn++) {
                    boolean withFirst = (p + turn) % 2 == 0;
                    for (int side = 0; side < 2; side++) {
                        boolean runWith = (side == 0) == withFirst;
                        long t0 = threads.getCurrentThreadCpuTime();
                        for (int i = 0; i < block; i++) {
                            if (runWith) {
                                with.fit(a.next());
                            } else {
                                without.fit(b.next());
                            }
                        }
                        long t = threads.getCurrentThreadCpuTime() - t0;
                        if (runWith) {
                            w += t;
                        } else {
                            wo += t;
                        }
                    }
                }
                ratios[p] = (double) wo / w;
                withNanos += w;
                withoutNanos += wo;
            }
            Arrays.sort(ratios);
            double iterations = 2.0 * pairs * block;
            double diff = with.params().sub(without.params()).amaxNumber().doubleValue()
                    / Math.max(1e-12, with.params().amaxNumber().doubleValue());
            System.out.printf(Locale.ROOT,
                    "RESULT %s ratio=%.4f q1=%.4f q3=%.4f without_ms=%.3f with_ms=%.3f max_rel_diff=%.3g%n",
                    step, ratios[pairs / 2], ratios[pairs / 4], ratios[(3 * pairs) / 4],
                    withoutNanos / 1e6 / iterations,
                    withNanos / 1e6 / iterations, diff);
            System.out.flush();
        }
        return 0;
    }

    /** TrainingPath's steps, all but {@code leftOut} (null: all). */
    static void prepare(MultiLayerNetwork net, String leftOut) {
        if (!"cache".equals(leftOut)) {
            net.getLayerWiseConfigurations().setCacheMode(CacheMode.DEVICE);
            net.setCacheMode(CacheMode.DEVICE);
        }
        if (!"dense".equals(leftOut) && !"cache".equals(leftOut)) {
            CachedPreOutputs.install(net);
        }
        if (!"conv".equals(leftOut)) {
            OneDnnConvolution.install(net);
        }
        if (!"input".equals(leftOut)) {
            InputLayerGradients.skip(net);
        }
        if (!"relu".equals(leftOut)) {
            ReluGradients.install(net);
        }
        if (!"pooling".equals(leftOut)) {
            MaxPooling.SWAP.install(net);
        }
        if (!"updater".equals(leftOut)) {
            UpdaterBlocks.skipEmptyRegularization(net);
        }
    }
}
