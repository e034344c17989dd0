package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Regressions found while walking the tutorial on DL4J models; each failed before its fix. */
class PruningFixesTest {

    @Test
    void lnStructuredPrunesWholeFiltersOfAFourDimensionalWeight() {
        INDArray w = Nd4j.ones(DataType.FLOAT, 4, 2, 3, 3);
        for (int f = 0; f < 4; f++) {
            w.slice(f).muli(f + 1); // filter f has L2 norm (f + 1) * sqrt(18)
        }
        Pruning pruning = Pruning.of(new LinkedHashMap<>(Map.of("conv.weight", w)));

        pruning.lnStructured("conv.weight", Amount.count(2), Norm.L2, 0);

        INDArray mask = pruning.mask("conv.weight");
        assertThat(mask.slice(0).sumNumber().doubleValue()).isZero();
        assertThat(mask.slice(1).sumNumber().doubleValue()).isZero();
        assertThat(mask.slice(2).sumNumber().doubleValue()).isEqualTo(18);
        assertThat(mask.slice(3).sumNumber().doubleValue()).isEqualTo(18);
    }

    @Test
    void lnStructuredOnAParameterWithEveryChannelPrunedPrunesNothingMoreAsPyTorchDoes() {
        Pruning pruning = Pruning.of(new LinkedHashMap<>(Map.of("fc.weight", Nd4j.rand(DataType.FLOAT, 4, 3))));
        pruning.lnStructured("fc.weight", Amount.fraction(1.0), Norm.L2, 0);

        pruning.lnStructured("fc.weight", Amount.fraction(0.5), Norm.L2, 0); // threw on an empty selection

        assertThat(pruning.mask("fc.weight").sumNumber().doubleValue()).isZero();
        org.assertj.core.api.Assertions
                .assertThatThrownBy(() -> pruning.lnStructured("fc.weight", Amount.count(1), Norm.L2, 0))
                .hasMessageStartingWith("amount=1 should be smaller than the number of parameters to prune=0");
    }

    @Test
    void keepsDoubleParametersExactWhenPruning() {
        double third = 1.0 / 3; // not representable as a float
        INDArray w = Nd4j.createFromArray(new double[][]{{third, -2 * third, 0.1}, {3 * third, 1e-300, -0.7}});
        INDArray before = w.dup();
        Pruning pruning = Pruning.of(new LinkedHashMap<>(Map.of("fc.weight", w)));

        pruning.l1Unstructured("fc.weight", Amount.count(2));

        Bits.assertSame(pruning.orig("fc.weight"), before, "orig");
        Bits.assertSame(w, before.mul(pruning.mask("fc.weight")), "parameter");
        assertThat(w.getDouble(0, 0)).isEqualTo(third);
    }
}
