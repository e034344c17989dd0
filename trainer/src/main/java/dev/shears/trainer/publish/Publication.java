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
 * @param denseFlops multiply-adds x2 of one forward pass of the architecture as trained
 * @param publishedFlops the same for the published (compacted) model
 * @param nonZeroFlops FLOPs counting only the non-zero weights (what sparse kernels could reach)
 * @param maskedLatencyMs batch-1 inference latency of the masked model before compaction, median ms
 * @param publishedLatencyMs the same for the published model
 * @param compactedLayers layers made physically smaller, with the channels kept
 * @param layerSparsity sparsity per pruned parameter
 */
public record Publication(String name, String version, Path dir, Path model, String sha256, long bytes, Path sparseModel,
        long sparseBytes, long denseBytes, long denseFlops, long publishedFlops, long nonZeroFlops, double maskedLatencyMs,
        double publishedLatencyMs, Map<String, Integer> compactedLayers, Map<String, Double> layerSparsity) {}
