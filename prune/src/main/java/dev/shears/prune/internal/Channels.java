package dev.shears.prune.internal;

import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Channel (slice along one dimension) arithmetic on C-order tensors. */
public final class Channels {
    private Channels() {}

    /**
     * Validates a structured method's tensor and dim as PyTorch does and returns the dim made
     * non-negative.
     */
    public static int checkDim(long[] shape, int dim) {
        if (shape.length <= 1) {
            throw new IllegalArgumentException("Structured pruning can only be applied to multidimensional tensors."
                    + " Found tensor of shape " + FloatView.torchSize(shape) + " with " + shape.length + " dims"
                    + " (fix: prune a 1-D tensor such as a bias with an unstructured method)");
        }
        if (dim >= shape.length || dim < -shape.length) {
            throw new IndexOutOfBoundsException("Invalid index " + dim + " for tensor of size "
                    + FloatView.torchSize(shape) + " (fix: dim must be in [" + -shape.length + ", "
                    + (shape.length - 1) + "]; 0 is the output units or filters)");
        }
        return dim < 0 ? dim + shape.length : dim;
    }

    /** Number of entries after {@code dim} (the stride of a channel step in C order). */
    public static long inner(long[] shape, int dim) {
        long inner = 1;
        for (int d = dim + 1; d < shape.length; d++) {
            inner *= shape[d];
        }
        return inner;
    }

    /** A 0/1 mask of {@code shape} with ones on the channels where {@code keep} is true. */
    public static INDArray mask(long[] shape, int dim, boolean[] keep, DataType type) {
        INDArray mask = Nd4j.zeros(DataType.FLOAT, shape);
        FloatView m = FloatView.of(mask);
        int size = (int) shape[dim];
        long inner = inner(shape, dim);
        long outer = m.length() / (size * inner);
        for (long o = 0; o < outer; o++) {
            for (int c = 0; c < size; c++) {
                if (keep[c]) {
                    int start = (int) ((o * size + c) * inner);
                    for (int i = 0; i < inner; i++) {
                        m.set(start + i, 1f);
                    }
                }
            }
        }
        return type == DataType.FLOAT ? mask : mask.castTo(type);
    }

    /** Which channels still have a non-zero mask entry (PyTorch: {@code mask.sum(other dims) != 0}). */
    public static boolean[] alive(INDArray mask, int dim) {
        long[] shape = mask.shape();
        float[] m = values(mask);
        int size = (int) shape[dim];
        long inner = inner(shape, dim);
        double[] sums = new double[size];
        long outer = m.length / (size * inner);
        for (long o = 0; o < outer; o++) {
            for (int c = 0; c < size; c++) {
                int start = (int) ((o * size + c) * inner);
                for (int i = 0; i < inner; i++) {
                    sums[c] += m[start + i];
                }
            }
        }
        boolean[] alive = new boolean[size];
        for (int c = 0; c < size; c++) {
            alive[c] = sums[c] != 0;
        }
        return alive;
    }

    /** The channels of {@code t} listed in {@code channels}, as a new C-order tensor. */
    public static INDArray select(INDArray t, int dim, int[] channels) {
        long[] shape = t.shape();
        long[] out = shape.clone();
        out[dim] = channels.length;
        INDArray result = Nd4j.create(t.dataType(), out, 'c');
        copyChannels(t, result, dim, channels, true);
        return result;
    }

    /** Channel {@code index} of {@code t} along {@code dim}: a view, one rank lower. */
    public static INDArray slice(INDArray t, int dim, long index) {
        org.nd4j.linalg.indexing.INDArrayIndex[] at = new org.nd4j.linalg.indexing.INDArrayIndex[t.rank()];
        for (int d = 0; d < at.length; d++) {
            at[d] = d == dim ? org.nd4j.linalg.indexing.NDArrayIndex.point(index)
                    : org.nd4j.linalg.indexing.NDArrayIndex.all();
        }
        return t.get(at);
    }

    /** Writes {@code part} (the listed channels) back into {@code whole}. */
    public static void scatter(INDArray whole, int dim, int[] channels, INDArray part) {
        copyChannels(whole, part, dim, channels, false);
    }

    private static void copyChannels(INDArray whole, INDArray part, int dim, int[] channels, boolean toPart) {
        FloatView w = FloatView.of(whole);
        FloatView p = FloatView.of(part);
        long[] shape = whole.shape();
        int size = (int) shape[dim];
        long inner = inner(shape, dim);
        long outer = w.length() / (size * inner);
        for (long o = 0; o < outer; o++) {
            for (int j = 0; j < channels.length; j++) {
                int ws = (int) ((o * size + channels[j]) * inner);
                int ps = (int) ((o * channels.length + j) * inner);
                for (int i = 0; i < inner; i++) {
                    if (toPart) {
                        p.set(ps + i, w.get(ws + i));
                    } else {
                        w.set(ws + i, p.get(ps + i));
                    }
                }
            }
        }
        (toPart ? p : w).commit();
    }

    /** Indices of the {@code keep} largest values (ties: lower index first). */
    public static boolean[] keepLargest(double[] scores, long keep) {
        Integer[] order = new Integer[scores.length];
        for (int i = 0; i < order.length; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scores[b], scores[a]));
        boolean[] kept = new boolean[scores.length];
        for (int i = 0; i < keep; i++) {
            kept[order[i]] = true;
        }
        return kept;
    }

    /** The tensor's values in C order, as floats (any rank: ND4J's toFloatVector takes vectors only). */
    public static float[] values(INDArray t) {
        return t.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }
}
