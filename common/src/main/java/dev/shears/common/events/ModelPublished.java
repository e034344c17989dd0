package dev.shears.common.events;

/**
 * The job's model is published: pruning made permanent, verified, written with its checksum. The
 * answer to {@link Finalize}, sent with its seq; the job is done.
 *
 * <p>Since version 2 it also says what the model costs, dense (the architecture as trained, every weight counted)
 * against published (after compaction): FLOPs and parameters, and the median inference latency on one example and
 * on a batch of 64, measured on the worker. A version-1 event is read with every cost field 0: not known. Since
version 5 it also gives both models' latencies compiled by Shears' inference compiler ({@code FusedInference}: batch
norms folded, activations and residual additions fused), 0 where a model has no fused form or an event is older.
 *
 * @param name the publication name, {@code [a-z0-9][a-z0-9._-]{0,63}} (the recipe's
 *     {@code publish.name})
 * @param version the version directory's name, such as {@code 20261123T120000Z}
 * @param path where the artifact lies (a file path or URI), not blank, at most 4,096 bytes of UTF-8
 * @param sha256 the model file's SHA-256, 64 lower-case hex digits
 * @param accuracy test accuracy of the published model, in [0, 1]
 * @param sparsity the fraction of the selected weights that are zero, in [0, 1]
 * @param denseFlops 2 x multiply-adds of one forward pass of the dense model on one example, >= 0 (0: not known)
 * @param flops the same for the published model, >= 0
 * @param denseParameters the dense model's parameters, >= 0 (0: not known)
 * @param parameters the published model's parameters, >= 0
 * @param denseLatencyMs the dense model's latency on one example, in ms, finite >= 0 (0: not measured)
 * @param latencyMs the published model's, likewise
 * @param denseBatchLatencyMs the dense model's latency on a batch of 64, in ms, finite >= 0 (0: not measured)
 * @param batchLatencyMs the published model's, likewise
 * @param denseFusedLatencyMs the dense model's latency on one example compiled for inference, in ms, finite >= 0
 *     (0: not measured)
 * @param fusedLatencyMs the published model's, likewise
 * @param denseFusedBatchLatencyMs the dense model's latency on a batch of 64 compiled for inference, in ms, finite >= 0
 *     (0: not measured)
 * @param fusedBatchLatencyMs the published model's, likewise
 */
public record ModelPublished(String name, String version, String path, String sha256, double accuracy,
        double sparsity, long denseFlops, long flops, long denseParameters, long parameters, double denseLatencyMs,
        double latencyMs, double denseBatchLatencyMs, double batchLatencyMs, double denseFusedLatencyMs,
        double fusedLatencyMs, double denseFusedBatchLatencyMs, double fusedBatchLatencyMs) implements Report {

    /** The batch whose latency {@link #denseBatchLatencyMs} and {@link #batchLatencyMs} give. */
    public static final int BATCH = 64;

    /** @throws IllegalArgumentException when a field is out of range */
    public ModelPublished {
        Check c = new Check("ModelPublished");
        c.name("name", name, "lenet5-fmnist-90");
        c.token("version", version, "20261123T120000Z");
        c.text("path", path, Limits.PATH, false, "the published model's location");
        if (path.chars().anyMatch(Check::isControl)) {
            throw c.fail("path", path, "contains a control character (fix: remove it)");
        }
        c.sha256("sha256", sha256);
        c.range("accuracy", accuracy, 0, 1, true, "a fraction of the test set, e.g. 0.89, not a percentage");
        c.range("sparsity", sparsity, 0, 1, true, "a fraction of the selected weights");
        String count = "a count, 0 when not known";
        c.range("denseFlops", denseFlops, 0, Long.MAX_VALUE, count);
        c.range("flops", flops, 0, Long.MAX_VALUE, count);
        c.range("denseParameters", denseParameters, 0, Long.MAX_VALUE, count);
        c.range("parameters", parameters, 0, Long.MAX_VALUE, count);
        String ms = "milliseconds, 0 when not measured";
        c.nonNegative("denseLatencyMs", denseLatencyMs, ms);
        c.nonNegative("latencyMs", latencyMs, ms);
        c.nonNegative("denseBatchLatencyMs", denseBatchLatencyMs, ms);
        c.nonNegative("batchLatencyMs", batchLatencyMs, ms);
        c.nonNegative("denseFusedLatencyMs", denseFusedLatencyMs, ms);
        c.nonNegative("fusedLatencyMs", fusedLatencyMs, ms);
        c.nonNegative("denseFusedBatchLatencyMs", denseFusedBatchLatencyMs, ms);
        c.nonNegative("fusedBatchLatencyMs", fusedBatchLatencyMs, ms);
    }

    /** A publication whose cost is not known (as a version-1 event says it). */
    public static ModelPublished withoutCost(String name, String version, String path, String sha256, double accuracy,
            double sparsity) {
        return new ModelPublished(name, version, path, sha256, accuracy, sparsity, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    }

    /** The cost fields version 2 added, in order: what a version-1 event is read with, as 0. */
    static final java.util.List<String> COST_FIELDS = java.util.List.of("denseFlops", "flops", "denseParameters",
            "parameters", "denseLatencyMs", "latencyMs", "denseBatchLatencyMs", "batchLatencyMs");

    /** The fused latencies version 5 added, in order: what an older event is read with, as 0. */
    static final java.util.List<String> FUSED_FIELDS = java.util.List.of("denseFusedLatencyMs", "fusedLatencyMs",
            "denseFusedBatchLatencyMs", "fusedBatchLatencyMs");
}
