package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class MethodsTest {

    @Test
    void semiStructuredKeepsTheTwoLargestOfEveryFourInputs() {
        INDArray w = Nd4j.createFromArray(new float[][]{
                {0.1f, -0.9f, 0.3f, 0.2f, 5f, 4f, -3f, 2f},
                {1f, 2f, 3f, 4f, -0.5f, 0.4f, 0.3f, -0.2f}});
        Pruning pruning = Pruning.of(new LinkedHashMap<>(Map.of("fc.weight", w)));
        pruning.semiStructured("fc.weight", 2, 4);
        assertThat(pruning.mask("fc.weight").data().asFloat())
                .containsExactly(0, 1, 1, 0, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0);
    }

    @Test
    void semiStructuredRefusesADimensionNotDivisibleByM() {
        Pruning pruning = Pruning.of(new LinkedHashMap<>(Map.of("fc.weight", Nd4j.rand(DataType.FLOAT, 3, 6))));
        assertThatThrownBy(() -> pruning.semiStructured("fc.weight", 2, 4))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("divisible by 4");
        assertThat(pruning.isPruned("fc.weight")).isFalse();
    }

    @Test
    void globalStructuredComparesChannelsBySizeNormalisedNorm() {
        // a: 2 channels of 4 entries with RMS 1 and 3; b: 2 channels of 1 entry with RMS 2 and 0.5.
        INDArray a = Nd4j.createFromArray(new float[][]{{1, 1, 1, 1}, {3, 3, 3, 3}});
        INDArray b = Nd4j.createFromArray(new float[][]{{2}, {0.5f}});
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("a.weight", a);
        tensors.put("b.weight", b);
        Pruning pruning = Pruning.of(tensors);
        pruning.globalStructured(List.of("a.weight", "b.weight"), Amount.count(2), Norm.L2, 0);
        // Raw L2 norms (2, 6, 2, 0.5) would prune b's first channel; normalised (1, 3, 2, 0.5) prune a's first.
        assertThat(pruning.mask("a.weight").data().asFloat()).containsExactly(0, 0, 0, 0, 1, 1, 1, 1);
        assertThat(pruning.mask("b.weight").data().asFloat()).containsExactly(1, 0);
    }

    @Test
    void globalStructuredKeepsAtLeastOneChannelPerParameter() {
        Map<String, INDArray> tensors = new LinkedHashMap<>();
        tensors.put("a.weight", Nd4j.createFromArray(new float[][]{{0.01f}, {0.02f}}));
        tensors.put("b.weight", Nd4j.createFromArray(new float[][]{{5f}, {6f}, {7f}}));
        Pruning pruning = Pruning.of(tensors);
        pruning.globalStructured(List.of("a.weight", "b.weight"), Amount.count(3), Norm.L1, 0);
        assertThat(pruning.mask("a.weight").sumNumber().intValue()).isEqualTo(1);
        assertThat(pruning.mask("b.weight").sumNumber().intValue()).isEqualTo(1);
        assertThatThrownBy(() -> pruning.globalStructured(List.of("a.weight", "b.weight"), Amount.count(1), Norm.L1, 0))
                .hasMessageContaining("at most 0 can go");
    }

    @Test
    void customMethodIsOneLambdaAndFollowsContainerSemantics() {
        PruningMethod everyOther = (t, defaultMask) -> {
            INDArray mask = defaultMask.dup();
            for (long i = 0; i < mask.length(); i += 2) {
                mask.putScalar(i, 0);
            }
            return mask;
        };
        Pruning pruning = Pruning.of(new LinkedHashMap<>(Map.of("fc.bias", Nd4j.linspace(DataType.FLOAT, 1, 8, 8))));
        pruning.apply("fc.bias", everyOther);
        assertThat(pruning.mask("fc.bias").data().asFloat()).containsExactly(0, 1, 0, 1, 0, 1, 0, 1);
        pruning.apply("fc.bias", everyOther); // every other of what remains: entries 1 and 5
        assertThat(pruning.mask("fc.bias").data().asFloat()).containsExactly(0, 0, 0, 1, 0, 0, 0, 1);
    }

    @Test
    void globalUnstructuredRefusesStructuredMethods() {
        Pruning pruning = Pruning.of(new LinkedHashMap<>(Map.of("fc.weight", Nd4j.rand(DataType.FLOAT, 3, 4))));
        assertThatThrownBy(() -> pruning.globalUnstructured(List.of("fc.weight"),
                new LnStructured(Amount.fraction(0.5), Norm.L1, 0), Map.of()))
                .hasMessageStartingWith("Only \"unstructured\" PRUNING_TYPE supported");
    }

    @Test
    void unknownParameterNamesTheKnownOnes() {
        Pruning pruning = Pruning.of(new LinkedHashMap<>(Map.of("fc.weight", Nd4j.rand(DataType.FLOAT, 3, 4))));
        assertThatThrownBy(() -> pruning.l1Unstructured("fc.wieght", Amount.fraction(0.5)))
                .hasMessageContaining("no parameter 'fc.wieght'")
                .hasMessageContaining("fc.weight");
    }
}
