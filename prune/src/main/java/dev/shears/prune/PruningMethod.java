package dev.shears.prune;

import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A way to choose what to prune: PyTorch's {@code BasePruningMethod}. Implement
 * {@link #computeMask} and hand the method to {@link Pruning#apply}; the container semantics
 * (pruning again applies to what is still unpruned) come from {@link #type()}.
 *
 * <pre>{@code
 * // Prune every other entry (PyTorch's FooBarPruningMethod):
 * PruningMethod everyOther = (t, defaultMask) -> {
 *     INDArray mask = defaultMask.dup();
 *     for (long i = 0; i < mask.length(); i += 2) mask.putScalar(i, 0);
 *     return mask;
 * };
 * pruning.apply("fc1.weight", everyOther);
 * }</pre>
 */
@FunctionalInterface
public interface PruningMethod {

    /**
     * Computes the new mask for a tensor.
     *
     * @param importance the scores that decide what to prune, in PyTorch layout (the parameter
     *     itself unless importance scores were given); when the container narrows it to what is
     *     still unpruned, an unstructured method receives a 1-D tensor
     * @param defaultMask the mask so far over the same entries (all ones on first pruning); never
     *     modified by well-behaved methods
     * @return a new mask of {@code importance}'s shape: 0 where pruned, 1 where kept
     */
    INDArray computeMask(INDArray importance, INDArray defaultMask);

    /** How this method combines with an existing mask; unstructured unless overridden. */
    default PruningType type() {
        return PruningType.UNSTRUCTURED;
    }
}
