package dev.shears.trainer.publish;

import java.nio.file.Path;
import java.util.Map;

/**
 * A published model and the figures that describe it.
 *
 * @param name the model name
 * @param version the version directory's name
 * @param dir the version directory
 * @param model the published DL4J model file
 * @param sha256 the model file's SHA-256
 * @param bytes the model file's size
 * @param sparseModel the sparse encoding, when it is smaller than the dense file (else null)
 * @param sparseBytes its size (0 when none)
 * @param denseBytes the size of the same model saved dense before pruning (float32 parameters)
 * @param dense what the model as trained costs: its architecture before compaction, every weight counted
 * @param published what the published (compacted) model costs
 * @param nonZeroFlops FLOPs counting only the non-zero weights (what sparse kernels could reach)
 * @param compactedLayers layers made physically smaller, with the channels kept
 * @param layerSparsity sparsity per pruned parameter
 */
public record Publication(String name, String version, Path dir, Path model, String sha256, long bytes,
        Path sparseModel,
        long sparseBytes, long denseBytes, Cost dense, Cost published, long nonZeroFlops,
        Map<String, Integer> compactedLayers, Map<String, Double> layerSparsity) {

    /**
     * What one model costs.
     *
     * @param flops 2 x multiply-adds of one forward pass on one example ({@code ModelCost})
     * @param parameters every parameter
     * @param latencyMs inference latency of a batch of 1, median ms
     * @param batchLatencyMs inference latency of a batch of {@link Publisher#BATCH} examples, median ms
     * @param fusedLatencyMs the same for a batch of 1 with the model compiled by {@code FusedInference} (batch norms
     *     folded, activations and residual additions fused), median ms; null where the model has no fused form
     * @param fusedBatchLatencyMs as {@code fusedLatencyMs}, for a batch of {@link Publisher#BATCH}
     */
    public record Cost(long flops, long parameters, double latencyMs, double batchLatencyMs, Double fusedLatencyMs,
            Double fusedBatchLatencyMs) {
    }
}
