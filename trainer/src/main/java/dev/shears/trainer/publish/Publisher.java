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
import dev.shears.trainer.cpu.FusedInference;
import dev.shears.trainer.data.JobData;
import dev.shears.trainer.model.TrainableModel;
import dev.shears.trainer.sensitivity.Sensitivity;
import dev.shears.trainer.sensitivity.SensitivityReport;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.deeplearning4j.util.ModelSerializer;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Finalize: makes the pruning permanent ({@code remove}), checks that the permanent model gives the
 * masked model's outputs on a probe batch, compacts structurally pruned layers (checking outputs
 * again), writes the model with a manifest (SHA-256, sparsity per layer, validation and test accuracy, the input
 * contract — shape, layout, normalisation per channel, class names —, recipe and lineage) as a new version of the job's directory ({@link JobDirectory#newVersion}), committed atomically and
 * durably, and points the model's {@code latest} at it.
 */
public final class Publisher {
    private static final Logger log = LoggerFactory.getLogger(Publisher.class);
    private static final double COMPACTION_TOLERANCE = 1e-4;
    /** The larger batch whose latency a publication reports, besides a batch of 1. */
    public static final int BATCH = dev.shears.common.events.ModelPublished.BATCH;

    private Publisher() {}

    /**
     * Publishes the masked model {@code model} of step {@code last} into {@code job}'s directory; the pruning is
     * permanent afterwards, and {@code model} no longer masked.
     *
     * @param layerSparsity the sparsity of each pruned parameter, for the manifest
     * @param data the job's data: the probe batch, and the input contract the manifest states
     * @param checkpoint the checkpoint the model comes from, recorded in the manifest's lineage
     * @throws IllegalStateException when the permanent or compacted model's outputs differ from the masked model's;
     *     nothing is published then
     */
    public static Publication publish(TrainableModel model, Pruning pruning, Map<String, Double> layerSparsity,
            Recipe recipe, JobData data, StepResult last, Optional<Checkpoints.Checkpoint> checkpoint,
            JobDirectory job) throws IOException {
        String name = recipe.publish().name();
        INDArray probe = data.probe(256);
        INDArray masked = model.output(probe);
        TrainableModel before = model.copy();
        ModelCost denseCost = model.cost();

        pruning.removeAll();
        INDArray permanent = model.output(probe);
        if (!permanent.equals(masked)) {
            throw new IllegalStateException("the permanent model's outputs differ from the masked model's on the probe"
                    + " batch (largest difference " + permanent.sub(masked).amaxNumber() + "); nothing was published");
        }
        long nonZeroFlops = model.nonZeroCost().flops();
        Compaction.Result compacted = model.compact();
        TrainableModel published = model;
        Map<String, Integer> compactedLayers = new LinkedHashMap<>();
        Map<String, int[]> keptChannels = new TreeMap<>(compacted.keptChannels());
        if (!keptChannels.isEmpty()) {
            TrainableModel small = model.with(compacted.model());
            double diff = small.output(probe).sub(masked).amaxNumber().doubleValue();
            if (diff > COMPACTION_TOLERANCE) {
                throw new IllegalStateException(
                        "the compacted model's outputs differ from the masked model's by " + diff
                                + " (more than " + COMPACTION_TOLERANCE + "); nothing was published");
            }
            published = small;
            keptChannels.forEach((layer, kept) -> compactedLayers.put(layer, kept.length));
        }
        ModelCost publishedCost = published.cost();
        log.info("publishing {}: outputs checked; timing the dense and the published model in turns, batch 1 and {},"
                + " through DL4J and compiled for inference (at most about {} s)", name, BATCH,
                4 * Latency.BUDGET_NANOS / 1_000_000_000L);
        Latency.Pair one = Latency.compare(before::output, published::output, rows(probe, 1));
        Latency.Pair batch = Latency.compare(before::output, published::output, rows(probe, BATCH));
        Latency.Pair[] fused = fusedLatencies(before, published, probe, masked);
        log.info("publishing {}: latencies from {} and {} pairs through DL4J{}", name, one.runs(), batch.runs(),
                fused == null ? "" : ", " + fused[0].runs() + " and " + fused[1].runs() + " compiled");
        Publication.Cost dense = new Publication.Cost(denseCost.flops(), denseCost.parameters(), one.firstMs(),
                batch.firstMs(), fused == null ? null : fused[0].firstMs(), fused == null ? null : fused[1].firstMs());
        Publication.Cost after = new Publication.Cost(publishedCost.flops(), publishedCost.parameters(), one.secondMs(),
                batch.secondMs(), fused == null ? null : fused[0].secondMs(),
                fused == null ? null : fused[1].secondMs());

        JobDirectory.Version version = job.newVersion(name, last.seq());
        Path tmp = job.stage(version);
        try {
            Path modelFile = tmp.resolve(JobDirectory.Version.MODEL);
            ModelSerializer.writeModel(published.model(), modelFile.toFile(), false);
            Path sparseFile = tmp.resolve(JobDirectory.Version.SPARSE_MODEL);
            SparseModel.write(published.model(), sparseFile);
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
            manifest.put("format", "DL4J ModelSerializer (" + published.kind() + "), pruning made permanent"
                    + (compactedLayers.isEmpty() ? "" : ", structurally pruned channels removed"));
            manifest.put("input", data.inputContract());
            manifest.put("accuracy", splits(last.accuracy(), last.testAccuracy()));
            manifest.put("loss", splits(last.loss(), last.testLoss()));
            manifest.put("sparsity", last.achievedSparsity());
            manifest.put("layerSparsity", layerSparsity);
            manifest.put("compactedLayers", compactedLayers);
            manifest.put("keptChannels", keptChannels);
            manifest.put("parameters", Map.of("before", compacted.parametersBefore(), "after", published.numParams()));
            manifest.put("cost", costs(dense, after, nonZeroFlops));
            manifest.put("lineage", JobDirectory.lineage(recipe.job(), last.seq(), checkpoint));
            manifest.put("recipe", recipe.toYaml());
            Files.writeString(tmp.resolve(JobDirectory.Version.MANIFEST), Json.write(manifest));
            job.commit(version, tmp);
            Path dir = version.dir();
            long denseBytes = 4L * compacted.parametersBefore();
            Path sparse = sparseSmaller ? dir.resolve(JobDirectory.Version.SPARSE_MODEL) : null;
            return new Publication(name, version.id(), dir, version.model(), sha, bytes, sparse,
                    sparseSmaller ? sparseBytes : 0, denseBytes, dense, after, nonZeroFlops, compactedLayers,
                    layerSparsity);
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
    }

    /**
     * Publishes a sensitivity report of the dense model {@code model} (step {@code last}) into {@code job}'s directory
     * instead of a model: {@code sensitivity.json} (the artifact), {@code sensitivity.txt}, {@code sensitivity.png}
     * and a manifest, committed as a new version as a model would be. The model is not changed.
     */
    public static Publication publishSensitivity(TrainableModel model, SensitivityReport report,
            SensitivityReport.Suggestion suggestion, Recipe recipe, StepResult last,
            Optional<Checkpoints.Checkpoint> checkpoint, JobDirectory job) throws IOException {
        String name = recipe.publish().name();
        ModelCost cost = model.cost();
        JobDirectory.Version version = job.newVersion(name, last.seq());
        Path tmp = job.stage(version);
        try {
            Sensitivity.Files files = Sensitivity.write(report, suggestion, tmp);
            Map<String, String> digests = new TreeMap<>();
            for (Path f : List.of(files.json(), files.table(), files.chart())) {
                digests.put(f.getFileName().toString(), Checkpoints.sha256(f));
            }
            String artifact = files.json().getFileName().toString();
            Map<String, Object> manifest = new LinkedHashMap<>();
            manifest.put("name", name);
            manifest.put("version", version.id());
            manifest.put("created", Instant.now().toString());
            manifest.put("artifact", artifact);
            manifest.put("files", digests);
            manifest.put("format", "sensitivity report of the dense " + model.kind() + ": each unit the recipe prunes,"
                    + " pruned alone on a grid of sparsities, and per-unit targets for a total of "
                    + suggestion.target());
            manifest.put("accuracy", splits(last.accuracy(), last.testAccuracy()));
            manifest.put("lineage", JobDirectory.lineage(recipe.job(), last.seq(), checkpoint));
            manifest.put("recipe", recipe.toYaml());
            Files.writeString(tmp.resolve(JobDirectory.Version.MANIFEST), Json.write(manifest));
            long bytes = Files.size(files.json());
            job.commit(version, tmp);
            Publication.Cost dense = new Publication.Cost(cost.flops(), cost.parameters(), 0, 0, null, null);
            return new Publication(name, version.id(), version.dir(), version.dir().resolve(artifact),
                    digests.get(artifact), bytes, null, 0, 4L * model.numParams(), dense, dense, cost.flops(), Map.of(),
                    Map.of());
        } finally {
            AtomicFiles.deleteTree(tmp);
        }
    }

    /**
     * The dense and the published cost a version's manifest records, in that order; {@link Publication.Cost} of
     * zeros (not known) for each one it lacks (a version published before costs were recorded).
     *
     * @throws IOException when the manifest cannot be read
     */
    public static Publication.Cost[] costs(Path versionDir) throws IOException {
        com.fasterxml.jackson.databind.JsonNode cost = Json.MAPPER.readTree(
                versionDir.resolve(JobDirectory.Version.MANIFEST).toFile()).path("cost");
        Publication.Cost[] both = new Publication.Cost[2];
        String[] names = {"dense", "published"};
        for (int i = 0; i < 2; i++) {
            com.fasterxml.jackson.databind.JsonNode c = cost.path(names[i]);
            both[i] = new Publication.Cost(c.path("flops").asLong(0), c.path("parameters").asLong(0),
                    c.path("latencyMs").asDouble(0), c.path("batchLatencyMs").asDouble(0),
                    orNull(c.path("fusedLatencyMs")), orNull(c.path("fusedBatchLatencyMs")));
        }
        return both;
    }

    /**
     * The latencies of both models compiled by {@link FusedInference} at batch 1 and {@link #BATCH}, or null (and
     * why, in the log) where oneDNN's presets do not load, either model has no fused form, or a fused model's outputs
     * on the probe differ from the masked model's by more than the compaction's tolerance.
     */
    private static Latency.Pair[] fusedLatencies(TrainableModel dense, TrainableModel published, INDArray probe,
            INDArray masked) {
        if (!FusedInference.available()) {
            log.info("no fused latencies: oneDNN's presets do not load here");
            return null;
        }
        INDArray x = published.shaped(probe); // both read what the masked model read
        try (FusedInference a = FusedInference.compile(dense.model());
                FusedInference b = FusedInference.compile(published.model())) {
            double diff = Math.max(a.output(x).sub(masked).amaxNumber().doubleValue(),
                    b.output(x).sub(masked).amaxNumber().doubleValue());
            if (!(diff <= COMPACTION_TOLERANCE)) {
                log.warn("no fused latencies: the fused models' outputs differ from the masked model's by {}", diff);
                return null;
            }
            return new Latency.Pair[]{Latency.compare(a::output, b::output, rows(x, 1)),
                    Latency.compare(a::output, b::output, rows(x, BATCH))};
        } catch (IllegalArgumentException | FusedInference.NoPrimitive e) {
            log.info("no fused latencies: {}", e.getMessage());
            return null;
        }
    }

    /** The manifest's {@code cost}: dense (as trained) against published, each with its FLOPs, size and latency. */
    private static Map<String, Object> costs(Publication.Cost dense, Publication.Cost published, long nonZeroFlops) {
        Map<String, Object> cost = new LinkedHashMap<>();
        cost.put("dense", dense);
        cost.put("published", published);
        cost.put("nonZeroFlops", nonZeroFlops);
        cost.put("latency", "median ms of inference on one thread of this worker, dense and published measured"
                + " alternately in pairs until both medians are known within " + Math.round(100 * Latency.PRECISION)
                + " % (95 % confidence), after " + Latency.RUNS + " pairs, or after "
                + Latency.BUDGET_NANOS / 1_000_000_000L + " s (at least " + Latency.MIN_RUNS
                + " pairs); batchLatencyMs is for a batch of " + BATCH
                + "; latencyMs with DL4J's output(),"
                + " fusedLatencyMs with the model compiled by FusedInference (batch norms folded, activations and"
                + " residual additions fused; null where the model has no fused form)");
        return cost;
    }

    private static Double orNull(com.fasterxml.jackson.databind.JsonNode n) {
        return n.isNumber() ? n.asDouble() : null;
    }

    /** The first {@code n} rows of the probe (all of them when it has fewer). */
    private static INDArray rows(INDArray probe, int n) {
        INDArrayIndex[] first = new INDArrayIndex[probe.rank()];
        first[0] = NDArrayIndex.interval(0, Math.min(n, probe.size(0)));
        for (int d = 1; d < first.length; d++) {
            first[d] = NDArrayIndex.all();
        }
        return probe.get(first).dup();
    }

    /** A figure on the validation and the test split, in that order. */
    private static Map<String, Double> splits(double validation, double test) {
        Map<String, Double> both = new LinkedHashMap<>();
        both.put("validation", validation);
        both.put("test", test);
        return both;
    }
}
