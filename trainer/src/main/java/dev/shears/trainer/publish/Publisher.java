package dev.shears.trainer.publish;

import dev.shears.common.recipe.Recipe;
import dev.shears.prune.Compaction;
import dev.shears.prune.ModelCost;
import dev.shears.prune.Pruning;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.data.FashionMnist;
import dev.shears.trainer.job.Json;
import dev.shears.trainer.job.PruningPlan;
import dev.shears.trainer.job.StepResult;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Finalize: makes the pruning permanent ({@code remove}), checks that the permanent model gives the
 * masked model's outputs on a probe batch, compacts structurally pruned layers (checking outputs
 * again), writes the model with a manifest (SHA-256, sparsity per layer, accuracy, recipe and
 * lineage) into {@code <models>/<name>/<version>/}, and points {@code <models>/<name>/latest} at it.
 */
public final class Publisher {
    private static final double COMPACTION_TOLERANCE = 1e-4;

    private Publisher() {}

    public static Publication publish(MultiLayerNetwork net, Pruning pruning, PruningPlan plan, Recipe recipe,
            FashionMnist data, StepResult last, Path checkpoint, Path models) throws IOException {
        String name = recipe.publish().name();
        INDArray probe = probe(data);
        Map<String, Double> layerSparsity = plan.layerSparsity(pruning);
        INDArray masked = net.output(probe);
        MultiLayerNetwork before = net.clone();
        long denseFlops = ModelCost.of(net).flops();

        pruning.removeAll();
        INDArray permanent = net.output(probe);
        if (!permanent.equals(masked)) {
            throw new IllegalStateException("the permanent model's outputs differ from the masked model's on the probe"
                    + " batch (largest difference " + permanent.sub(masked).amaxNumber() + "); nothing was published");
        }
        long nonZeroFlops = ModelCost.nonZero(net).flops();
        Compaction.Result compacted = Compaction.compact(net);
        MultiLayerNetwork published = net;
        Map<String, Integer> compactedLayers = new LinkedHashMap<>();
        if (!compacted.keptChannels().isEmpty()) {
            INDArray small = compacted.network().output(probe);
            double diff = small.sub(masked).amaxNumber().doubleValue();
            if (diff > COMPACTION_TOLERANCE) {
                throw new IllegalStateException("the compacted model's outputs differ from the masked model's by " + diff
                        + " (more than " + COMPACTION_TOLERANCE + "); nothing was published");
            }
            published = compacted.network();
            compacted.keptChannels().forEach((layer, kept) -> compactedLayers.put(layer, kept.length));
        }
        long publishedFlops = ModelCost.of(published).flops();
        double[] latency = latencyMs(before, published, probe);
        double maskedLatency = latency[0];
        double publishedLatency = latency[1];

        String version = DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC).format(Instant.now())
                + "-step" + last.seq();
        Path modelDir = models.resolve(name);
        Path tmp = modelDir.resolve(".tmp-" + version);
        Path dir = modelDir.resolve(version);
        Files.createDirectories(tmp);
        Path modelFile = tmp.resolve("model.zip");
        ModelSerializer.writeModel(published, modelFile.toFile(), false);
        Path sparseFile = tmp.resolve("model.sparse.zip");
        SparseModel.write(published, sparseFile);
        long bytes = Files.size(modelFile);
        long sparseBytes = Files.size(sparseFile);
        boolean sparseSmaller = sparseBytes < bytes;
        if (!sparseSmaller) {
            Files.delete(sparseFile);
        } else if (!SparseModel.read(sparseFile).params().equals(published.params())) {
            throw new IllegalStateException("the sparse encoding does not read back to the same parameters; nothing was published");
        }
        String sha = Checkpoints.sha256(modelFile);
        Map<String, Object> manifest = new LinkedHashMap<>();
        manifest.put("name", name);
        manifest.put("version", version);
        manifest.put("created", Instant.now().toString());
        manifest.put("files", sparseSmaller
                ? Map.of("model.zip", sha, "model.sparse.zip", Checkpoints.sha256(sparseFile))
                : Map.of("model.zip", sha));
        manifest.put("format", "DL4J ModelSerializer (MultiLayerNetwork), pruning made permanent"
                + (compactedLayers.isEmpty() ? "" : ", structurally pruned layers compacted"));
        manifest.put("input", "[batch, 784] float32: Fashion-MNIST pixels scaled to [0, 1], then (x - "
                + FashionMnist.MEAN + ") / " + FashionMnist.STD);
        manifest.put("accuracy", last.accuracy());
        manifest.put("loss", last.loss());
        manifest.put("sparsity", last.achievedSparsity());
        manifest.put("layerSparsity", layerSparsity);
        manifest.put("compactedLayers", compactedLayers);
        manifest.put("parameters", Map.of("before", compacted.parametersBefore(), "after", published.numParams()));
        manifest.put("lineage", Map.of("job", recipe.job(), "step", last.seq(),
                "checkpoint", checkpoint == null ? "" : checkpoint.toString()));
        manifest.put("recipe", recipe.toYaml());
        Files.writeString(tmp.resolve("manifest.json"), Json.write(manifest));
        Files.move(tmp, dir, StandardCopyOption.ATOMIC_MOVE);
        pointLatest(modelDir, version);
        long denseBytes = 4L * compacted.parametersBefore();
        return new Publication(name, version, dir, dir.resolve("model.zip"), sha, bytes,
                sparseSmaller ? dir.resolve("model.sparse.zip") : null, sparseSmaller ? sparseBytes : 0, denseBytes,
                denseFlops, publishedFlops, nonZeroFlops, maskedLatency, publishedLatency, compactedLayers, layerSparsity);
    }

    /**
     * A version published before from the same step and checkpoint: a worker that stopped between publishing and
     * recording it (the job's {@code published.json}) left it, and publishing again would make a second version of
     * one job. {@code latest} is pointed at it again when it is the newest version and the stop came before that.
     *
     * @param version the version directory's name
     * @param model its model file
     * @param sha256 the model file's SHA-256 as its manifest records it
     */
    public record Earlier(String version, Path model, String sha256) {}

    /** The version of {@code <models>/<name>} whose manifest's lineage is {@code step} and {@code checkpoint}, if any. */
    public static Optional<Earlier> publishedBefore(Path models, String name, long step, Path checkpoint)
            throws IOException {
        Path modelDir = models.resolve(name);
        if (!Files.isDirectory(modelDir)) {
            return Optional.empty();
        }
        List<Path> versions;
        try (var listing = Files.list(modelDir)) {
            versions = listing.filter(d -> !d.getFileName().toString().startsWith(".") && !Files.isSymbolicLink(d)
                    && Files.isRegularFile(d.resolve("manifest.json"))).sorted().toList();
        }
        // by the checkpoint's name, unique in the job: another worker may see the job's directory under another path
        String wanted = checkpoint == null ? "" : checkpoint.getFileName().toString();
        for (Path dir : versions) {
            var manifest = Json.MAPPER.readTree(dir.resolve("manifest.json").toFile());
            var lineage = manifest.path("lineage");
            String from = String.valueOf(Path.of(lineage.path("checkpoint").asText()).getFileName());
            if (lineage.path("step").asLong(-1) == step && from.equals(wanted)) {
                String version = dir.getFileName().toString();
                Path latest = modelDir.resolve("latest");
                if (dir.equals(versions.get(versions.size() - 1))
                        && !(Files.isSymbolicLink(latest) && Files.readSymbolicLink(latest).toString().equals(version))) {
                    pointLatest(modelDir, version);
                }
                return Optional.of(new Earlier(version, dir.resolve("model.zip"),
                        manifest.path("files").path("model.zip").asText()));
            }
        }
        return Optional.empty();
    }

    /** {@code latest} becomes a symbolic link to {@code version}, replaced atomically. */
    private static void pointLatest(Path modelDir, String version) throws IOException {
        Path link = modelDir.resolve("latest");
        Path tmp = modelDir.resolve(".latest-" + System.nanoTime());
        Files.createSymbolicLink(tmp, Path.of(version));
        Files.move(tmp, link, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    private static INDArray probe(FashionMnist data) {
        int n = Math.min(256, data.test().size());
        float[] images = Arrays.copyOf(data.test().images(), n * dev.shears.trainer.data.Split.PIXELS);
        return Nd4j.create(images, new long[] {n, dev.shears.trainer.data.Split.PIXELS}, 'c');
    }

    /**
     * Median batch-1 latency of two models, in ms, measured alternately (so both see the same load)
     * over 300 runs each after 50 of warm-up.
     */
    static double[] latencyMs(MultiLayerNetwork a, MultiLayerNetwork b, INDArray probe) {
        INDArray one = probe.getRow(0, true).dup();
        for (int i = 0; i < 50; i++) {
            a.output(one);
            b.output(one);
        }
        double[] ta = new double[300];
        double[] tb = new double[300];
        for (int i = 0; i < ta.length; i++) {
            long t0 = System.nanoTime();
            a.output(one);
            long t1 = System.nanoTime();
            b.output(one);
            long t2 = System.nanoTime();
            ta[i] = (t1 - t0) / 1e6;
            tb[i] = (t2 - t1) / 1e6;
        }
        Arrays.sort(ta);
        Arrays.sort(tb);
        return new double[] {ta[ta.length / 2], tb[tb.length / 2]};
    }
}
