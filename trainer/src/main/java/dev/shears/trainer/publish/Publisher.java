package dev.shears.trainer.publish;

import dev.shears.common.recipe.Recipe;
import dev.shears.prune.Compaction;
import dev.shears.prune.ModelCost;
import dev.shears.prune.Pruning;
import dev.shears.trainer.checkpoint.AtomicFiles;
import dev.shears.trainer.checkpoint.Checkpoints;
import dev.shears.trainer.checkpoint.JobDirectory;
import dev.shears.trainer.checkpoint.Json;
import dev.shears.trainer.checkpoint.StepResult;
import dev.shears.trainer.data.JobData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Finalize: makes the pruning permanent ({@code remove}), checks that the permanent model gives the
 * masked model's outputs on a probe batch, compacts structurally pruned layers (checking outputs
 * again), writes the model with a manifest (SHA-256, sparsity per layer, validation and test accuracy, the input
 * contract — shape, layout, normalisation per channel, class names —, recipe and lineage) as a new version of the job's directory ({@link JobDirectory#newVersion}), committed atomically and
 * durably, and points the model's {@code latest} at it.
 */
public final class Publisher {
    private static final double COMPACTION_TOLERANCE = 1e-4;

    private Publisher() {}

    /**
     * Publishes the masked model {@code net} of step {@code last} into {@code job}'s directory; the pruning is permanent
     * afterwards, and {@code net} no longer masked.
     *
     * @param layerSparsity the sparsity of each pruned parameter, for the manifest
     * @param data the job's data: the probe batch, and the input contract the manifest states
     * @param checkpoint the checkpoint the model comes from, recorded in the manifest's lineage
     * @throws IllegalStateException when the permanent or compacted model's outputs differ from the masked model's;
     *     nothing is published then
     */
    public static Publication publish(MultiLayerNetwork net, Pruning pruning, Map<String, Double> layerSparsity,
            Recipe recipe, JobData data, StepResult last, Optional<Checkpoints.Checkpoint> checkpoint,
            JobDirectory job) throws IOException {
        String name = recipe.publish().name();
        INDArray probe = data.probe(256);
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

        JobDirectory.Version version = job.newVersion(name, last.seq());
        Path tmp = job.stage(version);
        try {
            Path modelFile = tmp.resolve(JobDirectory.Version.MODEL);
            ModelSerializer.writeModel(published, modelFile.toFile(), false);
            Path sparseFile = tmp.resolve(JobDirectory.Version.SPARSE_MODEL);
            SparseModel.write(published, sparseFile);
            long bytes = Files.size(modelFile);
            long sparseBytes = Files.size(sparseFile);
            boolean sparseSmaller = sparseBytes < bytes;
            if (!sparseSmaller) {
                Files.delete(sparseFile);
            } else if (!SparseModel.read(sparseFile).params().equals(published.params())) {
                throw new IllegalStateException("the sparse encoding does not read back to the same parameters;"
                        + " nothing was published");
            }
            String sha = Checkpoints.sha256(modelFile);
            Map<String, Object> manifest = new LinkedHashMap<>();
            manifest.put("name", name);
            manifest.put("version", version.id());
            manifest.put("created", Instant.now().toString());
            manifest.put("files", sparseSmaller
                    ? Map.of(JobDirectory.Version.MODEL, sha, JobDirectory.Version.SPARSE_MODEL,
                            Checkpoints.sha256(sparseFile))
                    : Map.of(JobDirectory.Version.MODEL, sha));
            manifest.put("format", "DL4J ModelSerializer (MultiLayerNetwork), pruning made permanent"
                    + (compactedLayers.isEmpty() ? "" : ", structurally pruned layers compacted"));
            manifest.put("input", data.inputContract());
            manifest.put("accuracy", splits(last.accuracy(), last.testAccuracy()));
            manifest.put("loss", splits(last.loss(), last.testLoss()));
            manifest.put("sparsity", last.achievedSparsity());
            manifest.put("layerSparsity", layerSparsity);
            manifest.put("compactedLayers", compactedLayers);
            manifest.put("parameters", Map.of("before", compacted.parametersBefore(), "after", published.numParams()));
            manifest.put("lineage", JobDirectory.lineage(recipe.job(), last.seq(), checkpoint));
            manifest.put("recipe", recipe.toYaml());
            Files.writeString(tmp.resolve(JobDirectory.Version.MANIFEST), Json.write(manifest));
            job.commit(version, tmp);
            Path dir = version.dir();
            long denseBytes = 4L * compacted.parametersBefore();
            Path sparse = sparseSmaller ? dir.resolve(JobDirectory.Version.SPARSE_MODEL) : null;
            return new Publication(name, version.id(), dir, version.model(), sha, bytes, sparse,
                    sparseSmaller ? sparseBytes : 0, denseBytes, denseFlops, publishedFlops, nonZeroFlops, maskedLatency,
                    publishedLatency, compactedLayers, layerSparsity);
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
    }

    /** The indices of the first example of a batch of {@code rank} dimensions, kept as a batch of one. */
    private static INDArrayIndex[] firstExample(int rank) {
        INDArrayIndex[] first = new INDArrayIndex[rank];
        first[0] = NDArrayIndex.interval(0, 1);
        for (int d = 1; d < rank; d++) {
            first[d] = NDArrayIndex.all();
        }
        return first;
    }

    /** A figure on the validation and the test split, in that order. */
    private static Map<String, Double> splits(double validation, double test) {
        Map<String, Double> both = new LinkedHashMap<>();
        both.put("validation", validation);
        both.put("test", test);
        return both;
    }

    /**
     * Median batch-1 latency of two models, in ms, measured alternately (so both see the same load)
     * over 300 runs each after 50 of warm-up.
     */
    static double[] latencyMs(MultiLayerNetwork a, MultiLayerNetwork b, INDArray probe) {
        INDArray one = probe.get(firstExample(probe.rank())).dup();
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
