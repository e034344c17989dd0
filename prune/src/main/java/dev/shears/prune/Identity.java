package dev.shears.prune;

import org.nd4j.linalg.api.ndarray.INDArray;

/** Prunes nothing but sets up the pruning state ({@code _orig}, {@code _mask}); PyTorch's {@code Identity}. */
public record Identity() implements PruningMethod {
    @Override
    public INDArray computeMask(INDArray importance, INDArray defaultMask) {
        return defaultMask.dup();
    }
}
