package dev.shears.prune;

import dev.shears.prune.internal.Selection;
import java.util.List;

/**
 * The built-in unstructured methods prune the still-unpruned entries of one or many tensors in
 * place, which is what the container's gather-compute-scatter gives, without the copies.
 */
interface InPlaceUnstructured extends PruningMethod {

    /** The amount, applied to the {@code candidates} entries whose mask is 1. */
    Amount amount();

    /** Prunes {@code k} of the entries whose mask is 1, writing the masks in place. */
    void pruneUnpruned(List<Selection.Segment> segments, long k);
}
