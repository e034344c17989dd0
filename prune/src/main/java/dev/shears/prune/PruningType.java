package dev.shears.prune;

/**
 * How a method's mask combines with the mask a parameter already has, as PyTorch's
 * {@code PRUNING_TYPE}: when a parameter is pruned again, an {@link #UNSTRUCTURED} method sees only
 * the entries still unpruned, a {@link #STRUCTURED} method only the channels (along its dim) not yet
 * entirely pruned, and a {@link #GLOBAL} method the whole tensor.
 */
public enum PruningType {
    UNSTRUCTURED,
    STRUCTURED,
    GLOBAL
}
