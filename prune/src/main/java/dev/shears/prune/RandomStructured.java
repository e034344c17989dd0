package dev.shears.prune;

import dev.shears.prune.internal.Channels;
import java.util.SplittableRandom;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Prunes channels along {@code dim} chosen at random (PyTorch's {@code RandomStructured}). */
public record RandomStructured(Amount amount, int dim, long seed) implements StructuredPruningMethod {

    public RandomStructured {
        java.util.Objects.requireNonNull(amount, "amount");
    }

    @Override
    public INDArray computeMask(INDArray importance, INDArray defaultMask) {
        long[] shape = importance.shape();
        int d = Channels.checkDim(shape, dim);
        int size = (int) shape[d];
        long toPrune = amount.unitsToPrune(size);
        if (toPrune == 0) {
            return defaultMask.dup();
        }
        double[] scores = new double[size];
        SplittableRandom random = new SplittableRandom(seed);
        for (int c = 0; c < size; c++) {
            scores[c] = random.nextDouble();
        }
        boolean[] keep = Channels.keepLargest(scores, size - toPrune);
        return Channels.mask(shape, d, keep, defaultMask.dataType()).muli(defaultMask);
    }
}
