package dev.shears.prune;

/**
 * A method that removes whole channels along one dimension ({@code dim}, PyTorch's meaning, may be
 * negative). Pruned again, it sees only the channels not yet entirely pruned.
 */
public interface StructuredPruningMethod extends PruningMethod {

    /** The dimension whose slices are the channels (0 = output units / filters in PyTorch layout). */
    int dim();

    @Override
    default PruningType type() {
        return PruningType.STRUCTURED;
    }
}
