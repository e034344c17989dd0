package org.deeplearning4j.nn.layers.convolution.subsampling;

/**
 * Reads and replaces a pooling layer's helper, a field DL4J keeps protected. Shears'
 * {@code dev.shears.trainer.cpu.MaxPooling} puts its own helper there. Lives in DL4J's package for that field alone
 * (like {@code ConvolutionHelperAccess}); no reflection.
 */
public final class SubsamplingHelperAccess {
    private SubsamplingHelperAccess() {}

    /** The layer's helper (oneDNN on CPU, cuDNN on CUDA), or null when it uses the built-in path. */
    public static SubsamplingHelper get(SubsamplingLayer layer) {
        return layer.helper;
    }

    /** Replaces the layer's helper. */
    public static void set(SubsamplingLayer layer, SubsamplingHelper helper) {
        layer.helper = helper;
    }
}
