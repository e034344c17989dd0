package dev.shears.bench;

import dev.shears.common.recipe.Recipe;
import dev.shears.prune.Amount;
import dev.shears.prune.Compaction;
import dev.shears.prune.Norm;
import dev.shears.prune.PrunedModel;
import dev.shears.prune.Pruning;
import dev.shears.trainer.checkpoint.CheckpointState;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.cpu.CpuAcceleration;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.FashionMnist;
import dev.shears.trainer.data.Split;
import dev.shears.trainer.job.PruningPlan;
import dev.shears.trainer.model.Models;
import dev.shears.trainer.publish.SparseModel;
import dev.shears.trainer.train.MaskedTraining;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Nesterovs;

/**
 * Shears' side of {@code bench/side-by-side.sh}, beside the training job itself (which the script runs as
 * {@code ./shears train}): three measurements on LeNet-5, each a sub-command.
 *
 * <ul>
 *   <li>{@code mask}: global L1 mask computation on LeNet-5's five weights (61,470 entries), warm, the median of
 *       many repetitions, each from a fresh {@link Pruning} over the same pristine values (untimed):
 *       {@code oneshot} is {@code globalUnstructured(names, fraction(0.9))} on unpruned weights (PyTorch:
 *       {@code prune.global_unstructured(..., amount=0.9)}); {@code step} is one schedule step of the job on
 *       weights already pruned to 0.5: the trainer's own {@link PruningPlan#apply} turning the absolute target 0.9
 *       into a count on what remains, then {@code globalUnstructured} with that count. The counterparts are in
 *       {@code bench/torch_lenet5.py}.</li>
 *   <li>{@code compaction}: batch-1 latency and batch-256 throughput of LeNet-5 compacted against the same network
 *       uncompacted, at each filter sparsity (structured L2 on dim 0 of conv1, conv2, fc1 and fc2, then
 *       {@code removeAll()}, then {@link Compaction#compact}). The outputs are checked to agree first (within
 *       Publisher's 1e-4) on 256 test images and on one; then both run alternately, block by block in one JVM (the
 *       order flips every pair), so that other work on the machine slows both alike; the speed-up is the median of
 *       the per-pair ratios.</li>
 *   <li>{@code sizes}: file sizes against global L1 sparsity: the dense model (ModelSerializer, without and with
 *       updater; a dense checkpoint), and at each sparsity the {@link PrunedModel} zip, a job checkpoint
 *       ({@link Checkpoints#save}: model, updater, masks, {@code _orig}, state), the permanent model as DL4J writes
 *       it, and the {@link SparseModel} file. The model is trained a little first (dense, then masked) so that
 *       weights and momentum look like a job's.</li>
 * </ul>
 *
 * Every figure is also printed as a line {@code RESULT <key>=<value>} for the script.
 *
 * <pre>
 * OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE java -cp bench/target/benchmarks.jar dev.shears.bench.SideBySide mask
 * ... SideBySide compaction [--sparsities 0.5,0.75] [--pairs 31]
 * ... SideBySide sizes [--sparsities 0.5,0.8,0.9,0.95] [--dir DIR]
 * common options: [--recipe trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml] [--data DIR]
 *                 [--warmup N] [--reps N] (mask)
 * </pre>
 */
public final class SideBySide {

    private static final long SEED = 42;
    private static final List<String> STRUCTURED = List.of("conv1.weight", "conv2.weight", "fc1.weight", "fc2.weight");
    /** Publisher's tolerance between the compacted and the masked model's outputs. */
    private static final double TOLERANCE = 1e-4;

    private SideBySide() {}

    public static void main(String[] args) throws Exception {
        if (args.length == 0) {
            System.err.println("usage: SideBySide mask|compaction|sizes [options] (see the class comment)");
            System.exit(2);
        }
        Map<String, String> options = options(Arrays.copyOfRange(args, 1, args.length));
        CpuAcceleration.Status status = CpuAcceleration.enable();
        result("cpu", status.toString());
        switch (args[0]) {
            case "mask" -> mask(options);
            case "compaction" -> compaction(options);
            case "sizes" -> sizes(options);
            case "serve" -> serve(options);
            default -> {
                System.err.println("unknown sub-command " + args[0] + ": mask, compaction, sizes or serve");
                System.exit(2);
            }
        }
    }

    // ---- mask ---------------------------------------------------------------------------------------------------

    static void mask(Map<String, String> o) throws IOException {
        int warmup = Integer.parseInt(o.getOrDefault("warmup", "1000"));
        int reps = Integer.parseInt(o.getOrDefault("reps", "1000"));
        Recipe recipe = Recipe.load(Path.of(o.getOrDefault("recipe", "trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml")));
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
        System.out.printf(Locale.ROOT, "LeNet-5 global L1 mask over %s (%d weights), %d repetitions after %d of warm-up:%n",
                names, total, reps, warmup);
        System.out.printf(Locale.ROOT, "  oneshot 0.9          median %.4f ms (min %.4f)%n", median(oneshot), min(oneshot));
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
     * Training on command, for {@code bench/interleave.py}: the job's own training loop (LeNet-5 from the recipe,
     * {@link Batches}, {@link MaskedTraining} as listener, {@link PruningPlan} for pruning) driven line by line from
     * standard input, so that another process can be timed in turns with this one. Commands: {@code train K} (K
     * iterations), {@code prune S} (to the absolute sparsity S, as a job step), {@code quit}. Each is answered on
     * standard output by {@code DONE <seconds> <samples>}; {@code READY} comes first.
     */
    static void serve(Map<String, String> o) throws IOException {
        Recipe recipe = Recipe.load(Path.of(o.getOrDefault("recipe", "trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml")));
        var t = recipe.training();
        FashionMnist data = FashionMnist.load(Path.of(o.getOrDefault("data", recipe.data().toString()))).standardized();
        MultiLayerNetwork net = Models.lenet5(t.seed(), new Nesterovs(t.learningRate(),
                t.momentum().orElse(dev.shears.common.recipe.Training.DEFAULT_MOMENTUM)), t.weightDecay());
        Pruning pruning = Pruning.of(net).seed(t.seed());
        PruningPlan plan = new PruningPlan(recipe.pruning(), pruning, t.seed());
        MaskedTraining masked = new MaskedTraining(pruning);
        net.setListeners(masked);
        dev.shears.trainer.train.TrainingPath.prepare(net); // as JobSession does
        Batches batches = Batches.shuffled(data.train(), t.batchSize(), t.seed());
        var in = new java.io.BufferedReader(new java.io.InputStreamReader(System.in, java.nio.charset.StandardCharsets.UTF_8));
        System.out.println("READY");
        System.out.flush();
        int step = 0;
        for (String line; (line = in.readLine()) != null; ) {
            String[] cmd = line.trim().split("\\s+");
            long t0 = System.nanoTime();
            long samples = 0;
            switch (cmd[0]) {
                case "train" -> {
                    int k = Integer.parseInt(cmd[1]);
                    for (int i = 0; i < k; i++) {
                        org.nd4j.linalg.dataset.DataSet batch = batches.next();
                        net.fit(batch);
                        samples += batch.numExamples();
                    }
                }
                case "prune" -> {
                    plan.apply(pruning, Double.parseDouble(cmd[1]), ++step);
                    masked.refresh(net);
                }
                case "quit" -> {
                    return;
                }
                default -> throw new IllegalArgumentException("unknown command " + line);
            }
            System.out.println("DONE " + (System.nanoTime() - t0) / 1e9 + " " + samples);
            System.out.flush();
        }
    }

    // ---- compaction ---------------------------------------------------------------------------------------------

    static void compaction(Map<String, String> o) {
        double[] sparsities = doubles(o.getOrDefault("sparsities", "0.5,0.75"));
        int pairs = Integer.parseInt(o.getOrDefault("pairs", "31"));
        Split test = FashionMnist.load(Path.of(o.getOrDefault("data", FashionMnist.DEFAULT_DIR.toString())))
                .standardized().test();
        INDArray x256 = Nd4j.create(Arrays.copyOf(test.images(), 256 * Split.PIXELS), new long[] {256, Split.PIXELS}, 'c');
        INDArray x1 = x256.getRow(0, true).dup();
        System.out.printf(Locale.ROOT, "LeNet-5 compacted vs uncompacted (same shapes as dense, pruned filters all zero),"
                + " structured L2 on dim 0 of %s; %d alternating pairs per figure%n", STRUCTURED, pairs);
        System.out.printf(Locale.ROOT, "%-9s %-34s %10s %12s %12s %9s  %s%n", "sparsity", "kept (conv1 conv2 fc1 fc2)",
                "max |diff|", "dense", "compacted", "speed-up", "pair ratios (q1..q3)");
        for (double s : sparsities) {
            MultiLayerNetwork net = Models.lenet5(SEED, new Nesterovs(0.01, 0.9), 0);
            Pruning pruning = Pruning.of(net);
            for (String name : STRUCTURED) {
                pruning.lnStructured(name, Amount.fraction(s), Norm.L2, 0);
            }
            pruning.removeAll();
            Compaction.Result compacted = Compaction.compact(net);
            MultiLayerNetwork small = compacted.network();
            double diff = Math.max(maxDiff(net.output(x256), small.output(x256)), maxDiff(net.output(x1), small.output(x1)));
            if (!(diff <= TOLERANCE)) {
                throw new IllegalStateException("at sparsity " + s + " the compacted outputs differ by " + diff);
            }
            String kept = compacted.keptChannels().entrySet().stream().map(e -> e.getKey() + "=" + e.getValue().length)
                    .reduce((a, b) -> a + " " + b).orElse("none");
            double[] b1 = interleaved(net, small, x1, 200, pairs, 300);
            double[] b256 = interleaved(net, small, x256, 4, pairs, 20);
            String tag = String.valueOf(Math.round(s * 100));
            System.out.printf(Locale.ROOT, "%-9s %-34s %10.2e %9.1f us %9.1f us %8.2fx  %.2f..%.2f  (batch 1 latency)%n",
                    tag + " %", kept, diff, b1[0], b1[1], b1[2], b1[3], b1[4]);
            System.out.printf(Locale.ROOT, "%-9s %-34s %10s %7.0f ex/s %7.0f ex/s %8.2fx  %.2f..%.2f  (batch 256 throughput)%n",
                    "", "", "", 256e6 / b256[0], 256e6 / b256[1], b256[2], b256[3], b256[4]);
            result("compaction_" + tag + "_kept", kept.replace(' ', ','));
            result("compaction_" + tag + "_params", compacted.parametersBefore() + "->" + compacted.parametersAfter());
            result("compaction_" + tag + "_max_diff", String.format(Locale.ROOT, "%.3e", diff));
            result("compaction_" + tag + "_b1_dense_us", fmt(b1[0]));
            result("compaction_" + tag + "_b1_compacted_us", fmt(b1[1]));
            result("compaction_" + tag + "_b1_speedup", fmt(b1[2]));
            result("compaction_" + tag + "_b256_dense_per_s", fmt(256e6 / b256[0]));
            result("compaction_" + tag + "_b256_compacted_per_s", fmt(256e6 / b256[1]));
            result("compaction_" + tag + "_b256_speedup", fmt(b256[2]));
        }
    }

    /**
     * {@code a} and {@code b} run alternately on {@code x}, {@code block} calls each, {@code pairs} times (the order
     * flips every pair) after {@code warmup} calls each. Returns the median microseconds per call of a and of b (over
     * blocks), the median of the per-pair ratios a/b, and its quartiles.
     */
    static double[] interleaved(MultiLayerNetwork a, MultiLayerNetwork b, INDArray x, int block, int pairs, int warmup) {
        for (int i = 0; i < warmup; i++) {
            a.output(x);
            b.output(x);
        }
        double[] ta = new double[pairs];
        double[] tb = new double[pairs];
        double[] ratio = new double[pairs];
        for (int p = 0; p < pairs; p++) {
            boolean aFirst = p % 2 == 0;
            double first = block(aFirst ? a : b, x, block);
            double second = block(aFirst ? b : a, x, block);
            ta[p] = aFirst ? first : second;
            tb[p] = aFirst ? second : first;
            ratio[p] = ta[p] / tb[p];
        }
        double[] sorted = ratio.clone();
        Arrays.sort(sorted);
        return new double[] {median(ta), median(tb), median(ratio), sorted[pairs / 4], sorted[(3 * pairs) / 4]};
    }

    private static double block(MultiLayerNetwork net, INDArray x, int calls) {
        long t0 = System.nanoTime();
        for (int i = 0; i < calls; i++) {
            net.output(x);
        }
        return (System.nanoTime() - t0) / 1e3 / calls;
    }

    private static double maxDiff(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue();
    }

    // ---- sizes --------------------------------------------------------------------------------------------------

    static void sizes(Map<String, String> o) throws IOException {
        double[] sparsities = doubles(o.getOrDefault("sparsities", "0.5,0.8,0.9,0.95"));
        Path dir = o.containsKey("dir") ? Path.of(o.get("dir")) : Files.createTempDirectory("shears-sizes-");
        boolean keep = o.containsKey("dir");
        Recipe recipe = Recipe.load(Path.of(o.getOrDefault("recipe", "trainer/src/main/resources/recipes/lenet5-fmnist-90.yaml")));
        FashionMnist data = FashionMnist.load(Path.of(o.getOrDefault("data", FashionMnist.DEFAULT_DIR.toString())))
                .standardized();
        Batches batches = Batches.shuffled(data.train(), 64, SEED);
        MultiLayerNetwork base = Models.lenet5(SEED, new Nesterovs(0.01, 0.9), 0);
        for (int i = 0; i < 300; i++) {
            base.fit(batches.next()); // weights and momentum as a job has them, not as initialised
        }
        Files.createDirectories(dir);
        long raw = 4L * base.numParams();
        Path denseZip = dir.resolve("dense.zip");
        ModelSerializer.writeModel(base, denseZip.toFile(), false);
        Path denseUpdater = dir.resolve("dense-updater.zip");
        ModelSerializer.writeModel(base, denseUpdater.toFile(), true);
        long dense = Files.size(denseZip);
        Checkpoints denseCkpt = new Checkpoints(dir.resolve("ckpt-dense"), 1);
        long denseCheckpoint = treeSize(denseCkpt.save(base, Pruning.of(base), state(0, 0)).dir());

        System.out.printf(Locale.ROOT, "LeNet-5, %d parameters (%d bytes as raw float32); global L1 over %s (the job's"
                + " recipe), then 50 masked iterations%n", base.numParams(), raw, new PruningPlan(recipe.pruning(),
                Pruning.of(base), SEED).names());
        System.out.printf(Locale.ROOT, "dense: model.zip %d B (ModelSerializer, no updater), with updater %d B, checkpoint"
                + " %d B (model.zip with updater + state.json + MANIFEST)%n%n", dense, Files.size(denseUpdater),
                denseCheckpoint);
        System.out.printf(Locale.ROOT, "%-9s %8s | %-18s | %-18s | %-18s | %-18s | %-26s%n", "sparsity", "goal",
                "SparseModel", "DL4J zip, removed", "PrunedModel zip", "checkpoint", "checkpoint / dense ckpt");
        result("size_raw_bytes", String.valueOf(raw));
        result("size_dense_bytes", String.valueOf(dense));
        result("size_dense_updater_bytes", String.valueOf(Files.size(denseUpdater)));
        result("size_dense_checkpoint_bytes", String.valueOf(denseCheckpoint));
        for (double s : sparsities) {
            MultiLayerNetwork net = base.clone();
            Pruning pruning = Pruning.of(net);
            PruningPlan plan = new PruningPlan(recipe.pruning(), pruning, SEED);
            MaskedTraining masked = new MaskedTraining(pruning);
            net.setListeners(masked);
            plan.apply(pruning, s, 1);
            masked.refresh(net);
            for (int i = 0; i < 50; i++) {
                net.fit(batches.next());
            }
            String tag = String.valueOf(Math.round(s * 100));
            Path sub = dir.resolve("s" + tag);
            Files.createDirectories(sub);
            Path prunedModel = sub.resolve("pruned-model.zip");
            PrunedModel.save(net, pruning, prunedModel.toFile(), false);
            long checkpoint = treeSize(new Checkpoints(sub.resolve("ckpt"), 1).save(net, pruning, state(1, s)).dir());
            pruning.removeAll();
            Path permanent = sub.resolve("model.zip");
            ModelSerializer.writeModel(net, permanent.toFile(), false);
            Path sparse = sub.resolve("model.sparse.zip");
            SparseModel.write(net, sparse);
            if (!SparseModel.read(sparse).params().equals(net.params())) {
                throw new IllegalStateException("the sparse file does not read back to the same parameters");
            }
            double goal = 1 - s + 0.05;
            long sp = Files.size(sparse);
            long pz = Files.size(prunedModel);
            long dz = Files.size(permanent);
            System.out.printf(Locale.ROOT, "%-9s %7.1f%% | %s | %s | %s | %s | %s%n", tag + " %", 100 * goal,
                    cell(sp, dense, goal), cell(dz, dense, goal), cell(pz, dense, goal), cell(checkpoint, dense, goal),
                    cell(checkpoint, denseCheckpoint, goal));
            result("size_" + tag + "_sparse_bytes", String.valueOf(sp));
            result("size_" + tag + "_dl4j_removed_bytes", String.valueOf(dz));
            result("size_" + tag + "_pruned_model_bytes", String.valueOf(pz));
            result("size_" + tag + "_checkpoint_bytes", String.valueOf(checkpoint));
        }
        System.out.printf(Locale.ROOT, "%n(each cell: bytes, %% of the dense model.zip [last column: of the dense"
                + " checkpoint], and whether it is within the goal (1 - s) + 5 %%)%n");
        if (!keep) {
            deleteTree(dir);
        }
    }

    private static String cell(long bytes, long reference, double goal) {
        double ratio = (double) bytes / reference;
        return String.format(Locale.ROOT, "%7d %6.1f%% %-3s", bytes, 100 * ratio, ratio <= goal ? "ok" : "NO");
    }

    private static CheckpointState state(long seq, double sparsity) {
        return new CheckpointState("sizes", seq, 0, 0, 0, SEED, sparsity, sparsity, 0.9, 0.3, Map.of(), 0.9, List.of(),
                Instant.now());
    }

    private static long treeSize(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    throw new java.io.UncheckedIOException(e);
                }
            }).sum();
        }
    }

    private static void deleteTree(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            for (Path p : walk.sorted(Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
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

    private static double[] doubles(String csv) {
        return Arrays.stream(csv.split(",")).mapToDouble(Double::parseDouble).toArray();
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
