package dev.shears.prune;

import dev.shears.prune.internal.Channels;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Prunes the channels along {@code dim} of smallest {@code n}-norm (PyTorch's {@code LnStructured}):
 * {@code dim = 0} removes output units of a dense layer or filters of a convolution.
 */
public record LnStructured(Amount amount, Norm n, int dim) implements StructuredPruningMethod {

    public LnStructured {
        java.util.Objects.requireNonNull(amount, "amount");
        java.util.Objects.requireNonNull(n, "n");
    }

    @Override
    public INDArray computeMask(INDArray importance, INDArray defaultMask) {
        long[] shape = importance.shape();
        int d = Channels.checkDim(shape, dim);
        long size = shape[d];
        long toPrune = amount.unitsToPrune(size);
        double[] norms = n.channelNorms(Channels.values(importance), shape, d);
        if (toPrune == 0) {
            return defaultMask.dup();
        }
        boolean[] keep = Channels.keepLargest(norms, size - toPrune);
        return Channels.mask(shape, d, keep, defaultMask.dataType()).muli(defaultMask);
    }
}
