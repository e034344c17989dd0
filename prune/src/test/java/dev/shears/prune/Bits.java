package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.Arrays;
import java.util.Map;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** Bit-for-bit comparison of arrays: same shape, data type and element bits (so -0.0 differs from 0.0). */
final class Bits {
    private Bits() {}

    static void assertSame(INDArray actual, INDArray expected, String what) {
        assertThat(actual.shape()).as(what + " shape").containsExactly(expected.shape());
        assertThat(actual.dataType()).as(what + " data type").isEqualTo(expected.dataType());
        int i;
        String a;
        String e;
        if (expected.dataType() == DataType.FLOAT) { // Arrays.mismatch compares floats by their bits
            float[] x = flat(actual).toFloatVector();
            float[] y = flat(expected).toFloatVector();
            i = Arrays.mismatch(x, y);
            a = i < 0 ? "" : Float.toString(x[i]);
            e = i < 0 ? "" : Float.toString(y[i]);
        } else {
            double[] x = flat(actual.castTo(DataType.DOUBLE)).toDoubleVector();
            double[] y = flat(expected.castTo(DataType.DOUBLE)).toDoubleVector();
            i = Arrays.mismatch(x, y);
            a = i < 0 ? "" : Double.toString(x[i]);
            e = i < 0 ? "" : Double.toString(y[i]);
        }
        if (i >= 0) {
            throw new AssertionError(what + " differs first at flat index " + i + " of " + expected.length()
                    + ": expected " + e + " but was " + a);
        }
    }

    static void assertSame(Map<String, INDArray> actual, Map<String, INDArray> expected) {
        assertThat(actual.keySet()).containsExactlyElementsOf(expected.keySet());
        expected.forEach((key, value) -> assertSame(actual.get(key), value, key));
    }

    private static INDArray flat(INDArray t) {
        INDArray c = t.dup('c');
        return c.reshape(c.length());
    }
}
