package dev.shears.bench;

import dev.shears.common.data.InputShape;
import dev.shears.common.process.SerialFilter;
import dev.shears.common.recipe.Augmentation;
import dev.shears.common.recipe.ModelSource;
import dev.shears.common.recipe.Recipe;
import dev.shears.prune.Amount;
import dev.shears.prune.Pruning;
import dev.shears.trainer.checkpoint.CheckpointState;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.cpu.CpuAcceleration;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.EvalResult;
import dev.shears.trainer.data.LoadedDataset;
import dev.shears.trainer.train.PruningPlan;
import dev.shears.trainer.model.Models;
import dev.shears.trainer.model.TrainableModel;
import dev.shears.trainer.train.MaskedTraining;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.config.Nesterovs;

/**
 * Shears' side of {@code bench/side-by-side.sh}, beside the training job itself (which the script runs as
 * {@code ./shears train}): the mask computation on LeNet-5, and the job's training loop on command for
 * {@code bench/interleave.py} ({@code serve}). Compaction and sizes are {@code bench/compaction.sh}'s.
 *
 * <ul>
 *   <li>{@code mask}: global L1 mask computation on LeNet-5's five weights (61,470 entries), warm, the median of
 *       many repetitions, each from a fresh {@link Pruning} over the same pristine values (untimed):
 *       {@code oneshot} is {@code globalUnstructured(names, fraction(0.9))} on unpruned weights (PyTorch:
 *       {@code prune.global_unstructured(..., amount=0.9)}); {@code step} is one schedule step of the job on
 *       weights already pruned to 0.5: the trainer's own {@link PruningPlan#apply} turning the absolute target 0.9
 *       into a count on what remains, then {@code globalUnstructured} with that count. The counterparts are in
 *       {@code bench/torch_lenet5.py}.</li>
 * </ul>
 *
 * Every figure is also printed as a line {@code RESULT <key>=<value>} for the script.
 *
 * <pre>
 * OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE java -cp bench/target/benchmarks.jar dev.shears.bench.SideBySide mask
 * common options: [--recipe trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml] [--data DIR]
 *                 [--warmup N] [--reps N] (mask)
 * </pre>
 */
public final class SideBySide {

    private static final long SEED = 42;

    private SideBySide() {}

    public static void main(String[] args) throws Exception {
        SerialFilter.install();
        if (args.length == 0) {
            System.err.println("usage: SideBySide mask|serve [options] (see the class comment)");
            System.exit(2);
        }
        Map<String, String> options = options(Arrays.copyOfRange(args, 1, args.length));
        CpuAcceleration.Status status = CpuAcceleration.enable();
        result("cpu", status.toString());
        switch (args[0]) {
            case "mask" -> mask(options);
            case "serve" -> serve(options);
            default -> {
                System.err.println("unknown sub-command " + args[0] + ": mask or serve");
                System.exit(2);
            }
        }
    }

    // ---- mask ---------------------------------------------------------------------------------------------------

    static void mask(Map<String, String> o) throws IOException {
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "1000"));
        int reps = Integer.parseInt(o.getOrDefault("reps", "1000"));
        Recipe recipe = Recipe
                .load(Path.of(o.getOrDefault("recipe", "trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml")));
        MultiLayerNetwork net = Models.lenet5(SEED, new Nesterovs(0.01, 0.9), 0);
        PruningPlan plan = new PruningPlan(recipe.pruning(), Pruning.of(net), SEED);
        List<String> names = plan.names();
        long total = names.stream().mapToLong(n -> Pruning.of(net).parameter(n).size()).sum();
        long expected = Math.round(0.9 * total); // 0.9 * 61470 is not a tie
        INDArray pristine = net.params().dup();
        double[] oneshot = new double[reps];
        double[] step = new double[reps];
        for (int i = 0; i < warmup + reps; i++) {
            net.params().assign(pristine);
            Pruning a = Pruning.of(net);
            long t0 = System.nanoTime();
            a.globalUnstructured(names, Amount.fraction(0.9));
            long t1 = System.nanoTime();
            check(pruned(a, names), expected, "oneshot");

            net.params().assign(pristine);
            Pruning b = Pruning.of(net);
            b.globalUnstructured(names, Amount.fraction(0.5));
            long t2 = System.nanoTime();
            plan.apply(b, 0.9, 2);
            long t3 = System.nanoTime();
            check(pruned(b, names), expected, "step");
            if (i >= warmup) {
                oneshot[i - warmup] = (t1 - t0) / 1e6;
                step[i - warmup] = (t3 - t2) / 1e6;
            }
        }
        System.out.printf(Locale.ROOT,
                "LeNet-5 global L1 mask over %s (%d weights), %d repetitions after %d of warm-up:%n",
                names, total, reps, warmup);
        System.out.printf(Locale.ROOT, "  oneshot 0.9          median %.4f ms (min %.4f)%n", median(oneshot),
                min(oneshot));
        System.out.printf(Locale.ROOT, "  step 0.5 -> 0.9      median %.4f ms (min %.4f)%n", median(step), min(step));
        result("mask_oneshot_ms", fmt(median(oneshot)));
        result("mask_oneshot_min_ms", fmt(min(oneshot)));
        result("mask_step_ms", fmt(median(step)));
        result("mask_step_min_ms", fmt(min(step)));
        result("mask_reps", String.valueOf(reps));
    }

    private static void check(long pruned, long expected, String what) {
        if (pruned != expected) {
            throw new IllegalStateException(what + " pruned " + pruned + " weights, expected " + expected);
        }
    }

    private static long pruned(Pruning pruning, List<String> names) {
        long zeros = 0;
        for (String n : names) {
            INDArray m = pruning.mask(n);
            zeros += m.length() - m.neq(0).castTo(org.nd4j.linalg.api.buffer.DataType.INT64).sumNumber().longValue();
        }
        return zeros;
    }

    // ---- serve ------------------------------------------------------------------------------------------------

    /**
     * Training on command, for {@code bench/interleave.py}: the job's own training loop (the recipe's model: LeNet-5,
     * or a built-in graph such as {@code resnet20-fmnist-90}'s ResNet-20,
     * {@link Batches}, {@link MaskedTraining} as listener, {@link PruningPlan} for pruning,
     * {@link dev.shears.trainer.train.TrainingPath} as the job prepares it) driven line by line from standard input, so
     * that another process can be timed in turns with this one. Commands: {@code train K} (K iterations),
     * {@code prune S} (to the absolute sparsity S, as a job step), {@code eval} (the job's evaluation of the test set,
     * batches of 1000), {@code checkpoint} (the job's checkpoint, {@link Checkpoints#save}, into a temporary
     * directory keeping the last 3), {@code quit}. Each is answered on standard output by
     * {@code DONE <wall s> <samples> <this thread's CPU s> <the process's CPU s>}, CPU times read inside the process
     * (the JVM's thread CPU time, and the process's user + system time, JIT and GC threads included); {@code READY}
     * comes first.
     */
    static void serve(Map<String, String> o) throws IOException {
        Recipe recipe = Recipe
                .load(Path.of(o.getOrDefault("recipe", "trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml")));
        var t = recipe.training();
        LoadedDataset data = LoadedDataset.read(o.containsKey("data") ? Path.of(o.get("data"))
                : BenchModels.FASHION_MNIST.resolveSibling(recipe.data().name()));
        Nesterovs updater = new Nesterovs(t.learningRate(),
                t.momentum().orElse(dev.shears.common.recipe.Training.DEFAULT_MOMENTUM));
        // LeNet-5 as the side-by-side job has always built it; any other model as a job builds it from the recipe
        Model built = recipe.model().kind() == ModelSource.Kind.LENET5
                ? Models.lenet5(t.seed(), updater, t.weightDecay())
                : Models.create(recipe.model(), InputShape.FASHION_MNIST, 10, t.seed(), updater, t.weightDecay());
        TrainableModel model = TrainableModel.of(built, InputShape.FASHION_MNIST);
        Pruning pruning = model.newPruning().seed(t.seed());
        PruningPlan plan = new PruningPlan(recipe.pruning(), recipe.schedule().finalSparsity(), built, pruning,
                t.seed());
        MaskedTraining masked = new MaskedTraining(pruning);
        model.setListeners(masked);
        model.prepareTraining(); // as JobSession does
        Batches batches = Batches.shuffled(data.trainExamples().flat(), BenchModels.FASHION_MNIST_FLAT, t.batchSize(),
                t.seed(), Augmentation.NONE);
        Path checkpointDir = Files.createTempDirectory("side-by-side-checkpoints");
        Checkpoints checkpoints = new Checkpoints(checkpointDir);
        ThreadMXBean threads = ManagementFactory.getThreadMXBean();
        com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean) ManagementFactory
                .getOperatingSystemMXBean();
        var in = new java.io.BufferedReader(
                new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8));
        System.out.println("READY");
        System.out.flush();
        int step = 0;
        long iterations = 0;
        for (String line; (line = in.readLine()) != null;) {
            String[] cmd = line.trim().split("\\s+");
            long t0 = System.nanoTime();
            long thread0 = threads.getCurrentThreadCpuTime();
            long process0 = os.getProcessCpuTime();
            long samples = 0;
            switch (cmd[0]) {
                case "train" -> {
                    int k = Integer.parseInt(cmd[1]);
                    for (int i = 0; i < k; i++) {
                        org.nd4j.linalg.dataset.DataSet batch = batches.next();
                        if (built instanceof MultiLayerNetwork net) {
                            net.fit(batch); // LeNet-5 takes the flat images, as it always has here
                        } else {
                            model.fit(batch, t.seed(), iterations + i); // as a job fits a graph: image-shaped
                        }
                        samples += batch.numExamples();
                    }
                    iterations += k;
                }
                case "prune" -> {
                    plan.apply(pruning, Double.parseDouble(cmd[1]), ++step);
                    masked.refresh(built);
                }
                case "eval" -> // as a job evaluates: the model compiled for inference with its parameters now
                    samples = model.withInference(forward -> EvalResult.evaluate(forward, data.testExamples().flat(),
                            BenchModels.FASHION_MNIST_FLAT,
                            1000))
                            .samples();
                case "checkpoint" -> {
                    Batches.Position at = batches.position();
                    checkpoints.save(built, pruning, new CheckpointState(recipe.job(), step, iterations, at.epoch(),
                            at.batchIndex(), t.seed(), 0, 0, 0, 0, Map.of(), 0, List.of(), Instant.now()), 3);
                }
                case "quit" -> {
                    return;
                }
                default -> throw new IllegalArgumentException("unknown command " + line);
            }
            System.out.println("DONE " + (System.nanoTime() - t0) / 1e9 + " " + samples + " "
                    + (threads.getCurrentThreadCpuTime() - thread0) / 1e9 + " "
                    + (os.getProcessCpuTime() - process0) / 1e9);
            System.out.flush();
        }
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    private static Map<String, String> options(String[] args) {
        Map<String, String> o = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("options are --name value pairs, got " + args[i]);
            }
            o.put(args[i].substring(2), args[++i]);
        }
        return o;
    }

    private static void result(String key, String value) {
        System.out.println("RESULT " + key + "=" + value);
    }

    private static String fmt(double v) {
        return String.format(Locale.ROOT, "%.4f", v);
    }

    static double median(double[] values) {
        double[] s = values.clone();
        Arrays.sort(s);
        int n = s.length;
        return n % 2 == 1 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }

    private static double min(double[] values) {
        return Arrays.stream(values).min().orElse(Double.NaN);
    }
}
