package dev.shears.bench;

import dev.shears.common.process.SerialFilter;
import dev.shears.common.recipe.Augmentation;
import dev.shears.prune.Amount;
import dev.shears.prune.Compaction;
import dev.shears.prune.PrunableParameter;
import dev.shears.prune.Pruning;
import dev.shears.trainer.checkpoint.CheckpointState;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.cpu.CpuAcceleration;
import dev.shears.trainer.data.Batches;
import dev.shears.trainer.data.LoadedDataset;
import dev.shears.trainer.publish.Publisher;
import dev.shears.trainer.publish.SparseModel;
import dev.shears.trainer.train.MaskedTraining;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * File sizes against unstructured sparsity, written by the real code paths. For each {@link BenchModels model}: it is
 * trained a little (dense, Nesterov SGD, Fashion-MNIST) so that weights and momentum look like a job's; then the
 * dense model ({@link ModelSerializer}, no updater) and a dense checkpoint ({@link Checkpoints#save}) are written. At
 * each sparsity a copy is pruned by global L1 over all its weights ({@code prune.global_unstructured}), fine-tuned a
 * few masked iterations ({@link MaskedTraining}), checkpointed, and published as {@link Publisher} does it, without
 * its recipe, data and manifest: {@code removeAll()}, {@link Compaction#compact} (used when it removes anything, after
 * checking the outputs), {@link SparseModel#write} (checked to read back to the same parameters) beside
 * {@link ModelSerializer}'s {@code model.zip}.
 *
 * <p>Prints {@code DENSE key=value ...} per model and {@code SIZE key=value ...} per model and sparsity, with the
 * checkpoint's {@code model.zip} split by entry (compressed bytes): parameters ({@code coefficients.bin}), updater
 * state ({@code updaterState.bin}), masks with {@code _orig} at the pruned positions ({@code shears-mask-*.bin}), and
 * the rest (configurations, index, {@code state.json}, {@code MANIFEST}).
 *
 * <pre>
 * OMP_NUM_THREADS=1 OMP_WAIT_POLICY=PASSIVE java -cp bench/target/benchmarks.jar dev.shears.bench.ArtifactSizes \
 *     [--models lenet5,vgg] [--sparsities 0.5,0.8,0.9,0.95] [--data /usr/share/datasets/fashion-mnist] [--dir DIR]
 * </pre>
 */
@Command(name = "ArtifactSizes", mixinStandardHelpOptions = true,
        description = "Published sparse artifact and checkpoint sizes against unstructured sparsity.")
public final class ArtifactSizes implements Callable<Integer> {

    @Option(names = "--models", split = ",", description = "lenet5, vgg (default: both)")
    List<String> models = BenchModels.NAMES;

    @Option(names = "--sparsities", split = ",", description = "global L1 sparsities (default: 0.5,0.8,0.9,0.95)")
    List<Double> sparsities = List.of(0.5, 0.8, 0.9, 0.95);

    @Option(names = "--data", description = "Fashion-MNIST directory (default: ${DEFAULT-VALUE})")
    Path data = BenchModels.FASHION_MNIST;

    @Option(names = "--dir", description = "keep the files in this directory (default: a temporary one, deleted)")
    Path dir;

    /** Dense training iterations (batch 64) before any pruning: the job's weights and momentum, not initial ones. */
    private static final Map<String, Integer> DENSE_ITERATIONS = Map.of("lenet5", 300, "vgg", 30);
    /** Masked fine-tuning iterations after pruning, before the checkpoint. */
    private static final Map<String, Integer> MASKED_ITERATIONS = Map.of("lenet5", 50, "vgg", 10);

    public static void main(String[] args) {
        SerialFilter.install();
        System.exit(new CommandLine(new ArtifactSizes()).execute(args));
    }

    @Override
    public Integer call() throws IOException {
        System.out.println("CPU " + CpuAcceleration.enable());
        boolean keep = dir != null;
        Path root = keep ? Files.createDirectories(dir) : Files.createTempDirectory("shears-sizes-");
        LoadedDataset fmnist = LoadedDataset.read(data);
        try {
            for (String model : models) {
                sizes(model, fmnist, root.resolve(model));
            }
        } finally {
            if (!keep) {
                deleteTree(root);
            }
        }
        return 0;
    }

    private void sizes(String model, LoadedDataset fmnist, Path out) throws IOException {
        Files.createDirectories(out);
        Batches batches = Batches.shuffled(fmnist.trainExamples().flat(), BenchModels.FASHION_MNIST_FLAT, 64,
                BenchModels.SEED, Augmentation.NONE);
        MultiLayerNetwork base = BenchModels.build(model);
        for (int i = 0; i < DENSE_ITERATIONS.get(model); i++) {
            base.fit(batches.next());
        }
        Path denseZip = out.resolve("dense.zip");
        ModelSerializer.writeModel(base, denseZip.toFile(), false);
        Path denseCheckpoint = new Checkpoints(out.resolve("ckpt-dense")).save(base, Pruning.of(base), state(0, 0), 1)
                .dir();
        System.out.printf(Locale.ROOT, "DENSE model=%s params=%d raw_bytes=%d model_zip=%d checkpoint=%d %s%n", model,
                base.numParams(), 4 * base.numParams(), Files.size(denseZip), treeSize(denseCheckpoint),
                breakdown(denseCheckpoint));

        for (double s : sparsities) {
            MultiLayerNetwork net = base.clone();
            Pruning pruning = Pruning.of(net);
            List<String> weights = pruning.prunableWeights().stream().map(PrunableParameter::name).toList();
            pruning.globalUnstructured(weights, Amount.fraction(s));
            MaskedTraining masked = new MaskedTraining(pruning);
            net.setListeners(masked);
            masked.refresh(net);
            for (int i = 0; i < MASKED_ITERATIONS.get(model); i++) {
                net.fit(batches.next());
            }
            Path sub = Files.createDirectories(out.resolve("s" + Math.round(s * 100)));
            Path checkpoint = new Checkpoints(sub.resolve("ckpt")).save(net, pruning, state(1, s), 1).dir();
            double achieved = pruning.report(weights).total().sparsity();

            // Publisher's path: permanent, compacted when that removes anything, then both encodings.
            INDArray probe = BenchModels.input(64);
            INDArray maskedOutputs = net.output(probe);
            pruning.removeAll();
            Compaction.Result compacted = Compaction.compact(net);
            MultiLayerNetwork published = net;
            if (!compacted.keptChannels().isEmpty()) {
                BenchModels.checkSameOutputs(net, compacted.network(), probe, model + " at " + s);
                published = compacted.network();
            }
            if (!net.output(probe).equals(maskedOutputs)) {
                throw new IllegalStateException("the permanent model's outputs differ from the masked model's");
            }
            Path modelZip = sub.resolve("model.zip");
            ModelSerializer.writeModel(published, modelZip.toFile(), false);
            Path sparse = sub.resolve("model.sparse.zip");
            SparseModel.write(published, sparse);
            if (!SparseModel.read(sparse).params().equals(published.params())) {
                throw new IllegalStateException("the sparse file does not read back to the same parameters");
            }
            String compactedLayers = compacted.keptChannels().entrySet().stream()
                    .map(e -> e.getKey() + ":" + e.getValue().length).collect(Collectors.joining(","));
            System.out.printf(Locale.ROOT, "SIZE model=%s sparsity=%s achieved=%.4f compacted=%s sparse_zip=%d"
                    + " model_zip=%d checkpoint=%d %s%n", model, s, achieved,
                    compactedLayers.isEmpty() ? "none" : compactedLayers, Files.size(sparse), Files.size(modelZip),
                    treeSize(checkpoint), breakdown(checkpoint));
        }
    }

    /** The compressed bytes of a checkpoint's model.zip by kind of entry, and its other files, as key=value pairs. */
    private static String breakdown(Path checkpoint) throws IOException {
        Map<String, Long> parts = new LinkedHashMap<>();
        for (String kind : List.of("ckpt_params", "ckpt_updater", "ckpt_masks", "ckpt_other")) {
            parts.put(kind, 0L);
        }
        try (ZipFile zip = new ZipFile(checkpoint.resolve("model.zip").toFile())) {
            for (ZipEntry e : zip.stream().toList()) {
                String n = e.getName();
                String kind = n.equals("coefficients.bin") ? "ckpt_params" : n.equals("updaterState.bin")
                        ? "ckpt_updater" : n.startsWith("shears-mask-") ? "ckpt_masks" : "ckpt_other";
                parts.merge(kind, e.getCompressedSize(), Long::sum);
            }
        }
        long entries = parts.values().stream().mapToLong(Long::longValue).sum();
        // the zip's headers and directory, state.json and MANIFEST count as "other"
        parts.merge("ckpt_other", treeSize(checkpoint) - entries, Long::sum);
        return parts.entrySet().stream().map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(" "));
    }

    private static CheckpointState state(long seq, double sparsity) {
        return new CheckpointState("sizes", seq, 0, 0, 0, BenchModels.SEED, sparsity, sparsity, 0, 0, Map.of(), 0,
                List.of(), Instant.now());
    }

    private static long treeSize(Path root) throws IOException {
        try (Stream<Path> walk = Files.walk(root)) {
            return walk.filter(Files::isRegularFile).mapToLong(p -> {
                try {
                    return Files.size(p);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
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
}
