package dev.shears.prune;

/** What sort of layer a parameter belongs to, for choosing what to prune across a network. */
public enum LayerKind {
    CONVOLUTION,
    DEPTHWISE_CONVOLUTION,
    SEPARABLE_CONVOLUTION,
    DENSE,
    RECURRENT,
    EMBEDDING,
    NORMALIZATION,
    OTHER;

    /** Whether PyTorch users would prune this layer's weights by default (convolutions and dense). */
    public boolean prunableByDefault() {
        return this == CONVOLUTION || this == DEPTHWISE_CONVOLUTION || this == SEPARABLE_CONVOLUTION || this == DENSE;
    }
}
