package org.deeplearning4j.nn.layers.convolution;

/**
 * Reads and replaces a convolution layer's helper, a field DL4J keeps protected. Shears'
 * {@code dev.shears.trainer.cpu.InputLayerGradients} wraps the oneDNN helper of a network's first
 * convolution with it. Lives in DL4J's package for that field alone (like the {@code Nd4jCpu} shim
 * beside {@code CpuAcceleration}); no reflection.
 */
public final class ConvolutionHelperAccess {
    private ConvolutionHelperAccess() {}

    /** The layer's helper (oneDNN on CPU, cuDNN on CUDA), or null when it uses the built-in path. */
    public static ConvolutionHelper get(ConvolutionLayer layer) {
        return layer.helper;
    }

    /** Replaces the layer's helper. */
    public static void set(ConvolutionLayer layer, ConvolutionHelper helper) {
        layer.helper = helper;
    }
}
