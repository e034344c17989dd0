package dev.shears.prune.internal;

import java.nio.FloatBuffer;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Flat, C-order float access to an array, in place when its memory already is C-contiguous
 * float32 (parameter views of DL4J networks are), otherwise through a float copy that
 * {@link #commit()} writes back. Index {@code i} is the i-th element in C order.
 */
public final class FloatView {
    private final INDArray target;
    private final INDArray copy;
    private final FloatBuffer buffer;
    private final int base;
    private final int length;

    private FloatView(INDArray target, INDArray copy, FloatBuffer buffer, int base, int length) {
        this.target = target;
        this.copy = copy;
        this.buffer = buffer;
        this.base = base;
        this.length = length;
    }

    /** A view of {@code array}; in place when possible. */
    public static FloatView of(INDArray array) {
        if (array.length() > Integer.MAX_VALUE - 16) {
            throw new IllegalArgumentException("tensor of " + array.length()
                    + " elements is too large: at most " + (Integer.MAX_VALUE - 16) + " per tensor");
        }
        if (isDirect(array)) {
            return new FloatView(array, null, array.data().asNioFloat(), Math.toIntExact(array.offset()),
                    (int) array.length());
        }
        INDArray copy = array.castTo(DataType.FLOAT).dup('c');
        return new FloatView(array, copy, copy.data().asNioFloat(), Math.toIntExact(copy.offset()),
                (int) copy.length());
    }

    /** Whether {@code array} is float32 laid out contiguously in C order. */
    public static boolean isDirect(INDArray array) {
        if (array.dataType() != DataType.FLOAT || array.isEmpty()) {
            return false;
        }
        long[] shape = array.shape();
        long[] stride = array.stride();
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && stride[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    public int length() {
        return length;
    }

    public float get(int i) {
        return buffer.get(base + i);
    }

    public void set(int i, float v) {
        buffer.put(base + i, v);
    }

    /** The underlying buffer; element i is at {@code base() + i}. For hot loops. */
    public FloatBuffer buffer() {
        return buffer;
    }

    public int base() {
        return base;
    }

    /** Writes a copy back to the array it was taken from; nothing to do for an in-place view. */
    public void commit() {
        if (copy != null) {
            target.assign(copy.castTo(target.dataType()));
        }
    }

    /** PyTorch's rendering of a shape, {@code torch.Size([4, 3])}, as its messages print it. */
    public static String torchSize(long[] shape) {
        return "torch.Size(" + Arrays.toString(shape) + ")";
    }
}
