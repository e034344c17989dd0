package dev.shears.prune;

import dev.shears.prune.internal.FloatView;
import dev.shears.prune.internal.Selection;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Prunes entries chosen uniformly at random (PyTorch's {@code RandomUnstructured}). The choice is a
 * function of {@code seed}, so the same seed prunes the same entries.
 */
public record RandomUnstructured(Amount amount, long seed) implements InPlaceUnstructured {

    public RandomUnstructured {
        java.util.Objects.requireNonNull(amount, "amount");
    }

    @Override
    public INDArray computeMask(INDArray importance, INDArray defaultMask) {
        long k = amount.unitsToPrune(importance.length());
        INDArray mask = defaultMask.dup('c');
        FloatView m = FloatView.of(mask);
        Selection.pruneLowest(List.of(new Selection.Segment(m, m)), k, Selection.Score.RANDOM, false, seed);
        m.commit();
        return mask;
    }

    @Override
    public void pruneUnpruned(List<Selection.Segment> segments, long k) {
        Selection.pruneLowest(segments, k, Selection.Score.RANDOM, true, seed);
    }
}
