package dev.shears.prune;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AmountTest {

    @Test
    void roundsFractionsHalfToEvenOnTheDoubleProductAsPythonDoes() {
        assertThat(Amount.fraction(0.25).unitsToPrune(10)).isEqualTo(2); // 2.5 -> 2
        assertThat(Amount.fraction(0.35).unitsToPrune(10)).isEqualTo(4); // 3.5 -> 4
        assertThat(Amount.fraction(0.7).unitsToPrune(45)).isEqualTo(31); // 31.499999999999996 -> 31
        assertThat(Amount.fraction(1.0).unitsToPrune(7)).isEqualTo(7);
    }

    @Test
    void countOneIsOneEntryButFractionOneIsEverything() {
        assertThat(Amount.count(1).unitsToPrune(10)).isEqualTo(1);
        assertThat(Amount.fraction(1.0).unitsToPrune(10)).isEqualTo(10);
    }

    @Test
    void refusesOutOfRangeAmountsNamingTheValueAndTheFix() {
        assertThatThrownBy(() -> Amount.fraction(1.3))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith(
                        "amount=1.3 should either be a float in the range [0, 1] or a non-negative integer")
                .hasMessageContaining("fix");
        assertThatThrownBy(() -> Amount.count(-1)).hasMessageStartingWith("amount=-1 should either");
        assertThatThrownBy(() -> Amount.fraction(Double.NaN)).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> Amount.count(13).unitsToPrune(12))
                .hasMessageStartingWith("amount=13 should be smaller than the number of parameters to prune=12")
                .hasMessageContaining("[0, 12]");
    }
}
