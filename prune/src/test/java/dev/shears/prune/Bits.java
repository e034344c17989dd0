package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Bit-for-bit comparison of arrays: same shape, data type and raw element bits (so -0.0 differs from 0.0). */
final class Bits {
    private Bits() {}

    static long[] of(INDArray a) {
        INDArray c = a.castTo(DataType.DOUBLE).dup('c');
        double[] v = c.reshape(c.length()).toDoubleVector();
        long[] bits = new long[v.length];
        for (int i = 0; i < v.length; i++) {
            bits[i] = Double.doubleToRawLongBits(v[i]);
        }
        return bits;
    }

    static void assertSame(INDArray actual, INDArray expected, String what) {
        assertThat(actual.shape()).as(what + " shape").containsExactly(expected.shape());
        assertThat(actual.dataType()).as(what + " data type").isEqualTo(expected.dataType());
        long[] a = of(actual);
        long[] e = of(expected);
        int i = java.util.Arrays.mismatch(a, e);
        if (i >= 0) {
            throw new AssertionError(what + " differs first at flat index " + i + " of " + e.length + ": expected "
                    + (i < e.length ? Double.longBitsToDouble(e[i]) : "nothing") + " but was "
                    + (i < a.length ? Double.longBitsToDouble(a[i]) : "nothing"));
        }
    }

    static void assertSame(Map<String, INDArray> actual, Map<String, INDArray> expected) {
        assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
        expected.forEach((key, value) -> assertSame(actual.get(key), value, key));
    }
}
