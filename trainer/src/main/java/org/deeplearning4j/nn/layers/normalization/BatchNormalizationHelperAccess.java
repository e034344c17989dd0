package org.deeplearning4j.nn.layers.normalization;

/**
 * Reads and replaces a batch-normalization layer's helper, a field DL4J keeps package-private. Shears'
 * {@code dev.shears.trainer.cpu.OneDnnBatchNorm} puts its own helper there. Lives in DL4J's package for that field
 * alone (like {@code ConvolutionHelperAccess}); no reflection.
 */
public final class BatchNormalizationHelperAccess {
    private BatchNormalizationHelperAccess() {}

    /** The layer's helper (oneDNN on CPU, cuDNN on CUDA), or null when it uses the built-in path. */
    public static BatchNormalizationHelper get(BatchNormalization layer) {
        return layer.helper;
    }

    /**
     * How many times the layer's helper failed: DL4J catches a helper's exception, logs it and runs its own path from
     * then on.
     */
    public static int failures(BatchNormalization layer) {
        return layer.helperCountFail;
    }

    /** Replaces the layer's helper. */
    public static void set(BatchNormalization layer, BatchNormalizationHelper helper) {
        layer.helper = helper;
    }
}
