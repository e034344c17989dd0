package dev.shears.prune;

import dev.shears.prune.internal.Channels;
import dev.shears.prune.internal.FloatView;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * N:M semi-structured sparsity: in every group of {@code m} consecutive entries along {@code dim}
 * (1 = the input dimension, as sparse tensor cores expect for 2:4), keeps the {@code n} of largest
 * magnitude. Already-pruned entries count as zeros, so pruning again never revives them.
 */
public record SemiStructured(int n, int m, int dim) implements PruningMethod {

    public SemiStructured {
        if (m < 1 || n < 0 || n > m) {
            throw new IllegalArgumentException("N:M sparsity " + n + ":" + m
                    + " is out of range: need 0 <= N <= M and M >= 1 (fix: e.g. 2:4)");
        }
    }

    /** 2:4 along the input dimension. */
    public static SemiStructured twoFour() {
        return new SemiStructured(2, 4, 1);
    }

    @Override
    public INDArray computeMask(INDArray importance, INDArray defaultMask) {
        long[] shape = importance.shape();
        int d = Channels.checkDim(shape, dim);
        long size = shape[d];
        if (size % m != 0) {
            throw new IllegalArgumentException("N:M sparsity " + n + ":" + m + " needs dim " + dim
                    + " of size divisible by " + m + ", but the tensor has shape " + FloatView.torchSize(shape)
                    + " (fix: choose M dividing " + size + ", or another dim)");
        }
        INDArray effective = importance.mul(defaultMask.castTo(importance.dataType()));
        float[] v = Channels.values(effective);
        INDArray mask = defaultMask.dup('c');
        FloatView out = FloatView.of(mask);
        long inner = Channels.inner(shape, d);
        long outer = v.length / (size * inner);
        int[] group = new int[m];
        for (long o = 0; o < outer; o++) {
            for (long g = 0; g < size; g += m) {
                for (long i = 0; i < inner; i++) {
                    for (int j = 0; j < m; j++) {
                        group[j] = (int) ((o * size + g + j) * inner + i);
                    }
                    pruneGroup(v, out, group);
                }
            }
        }
        out.commit();
        return mask;
    }

    /** Zeroes the m - n smallest |v| of one group (ties: later entries pruned first). */
    private void pruneGroup(float[] v, FloatView out, int[] group) {
        for (int pruned = 0; pruned < m - n; pruned++) {
            int worst = -1;
            for (int idx : group) {
                if (idx < 0) {
                    continue;
                }
                if (worst < 0 || Math.abs(v[idx]) <= Math.abs(v[worst])) {
                    worst = idx;
                }
            }
            out.set(worst, 0f);
            for (int j = 0; j < group.length; j++) {
                if (group[j] == worst) {
                    group[j] = -1;
                }
            }
        }
    }

    @Override
    public PruningType type() {
        return PruningType.GLOBAL;
    }
}
