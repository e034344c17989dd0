package dev.shears.prune;

import dev.shears.prune.internal.FloatView;
import dev.shears.prune.internal.Selection;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Prunes the entries of smallest magnitude (PyTorch's {@code L1Unstructured}). */
public record L1Unstructured(Amount amount) implements InPlaceUnstructured {

    public L1Unstructured {
        java.util.Objects.requireNonNull(amount, "amount");
    }

    @Override
    public INDArray computeMask(INDArray importance, INDArray defaultMask) {
        long k = amount.unitsToPrune(importance.length());
        INDArray mask = defaultMask.dup('c');
        FloatView m = FloatView.of(mask);
        Selection.pruneLowest(List.of(new Selection.Segment(FloatView.of(importance), m)), k,
                Selection.Score.MAGNITUDE, false, 0);
        m.commit();
        return mask;
    }

    @Override
    public void pruneUnpruned(List<Selection.Segment> segments, long k) {
        Selection.pruneLowest(segments, k, Selection.Score.MAGNITUDE, true, 0);
    }
}
