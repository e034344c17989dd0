package dev.shears.common.schedule;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class SparsityTest {

    @ParameterizedTest(name = "round({1} * {0}) = {2}")
    @CsvSource({
            "10, 0.25, 2", // 2.5 rounds to even: down
            "10, 0.75, 8", // 7.5 rounds to even: up
            "5, 0.5, 2",
            "7, 0.5, 4",
            "0, 0.9, 0",
            "61470, 0.9, 55323",
            "1000, 0.0, 0",
    })
    void targetCountRoundsTheProductHalfToEvenAsPythonDoes(long total, double target, long expected) {
        assertThat(Sparsity.targetCount(total, target)).isEqualTo(expected);
    }

    @ParameterizedTest(name = "{0} units")
    @ValueSource(longs = {1, 6, 150, 2_400, 10_080, 48_000, 61_470, 235_200, 266_200})
    void pruningTheCountOnWhatRemainsLandsExactlyOnEveryTarget(long total) {
        long pruned = 0;
        for (SchedulePoint point : Schedule.polynomial(0.0, 0.9, 10, 3).points()) {
            long now = Sparsity.unitsToPrune(total, pruned, point.targetSparsity());
            assertThat(now).isBetween(0L, total - pruned);
            pruned += now;
            assertThat(pruned).as("step %d", point.step())
                    .isEqualTo((long) Math.rint(point.targetSparsity() * total));
        }
    }

    @Test
    void lotteryRoundsLandExactlyOnTheirTargets() {
        long total = 266_200; // LeNet-300-100's fc weights
        long pruned = 0;
        for (SchedulePoint point : Schedule.lotteryTicket(0.9, 0.2).points()) {
            pruned += Sparsity.unitsToPrune(total, pruned, point.targetSparsity());
            assertThat(pruned).isEqualTo(Sparsity.targetCount(total, point.targetSparsity()));
        }
        assertThat(pruned).isEqualTo(239_580);
    }

    @Test
    void aTargetBelowWhatIsAlreadyPrunedPrunesNothing() {
        assertThat(Sparsity.unitsToPrune(100, 60, 0.5)).isZero();
    }

    @Test
    void aTargetEqualToWhatIsAlreadyPrunedPrunesNothing() {
        assertThat(Sparsity.unitsToPrune(100, 50, 0.5)).isZero();
    }

    @Test
    void theFirstStepPrunesTheWholeTargetCount() {
        assertThat(Sparsity.unitsToPrune(400, 0, 0.3)).isEqualTo(120);
    }

    @Test
    void alreadyPrunedAboveTheTotalIsRefused() {
        assertThatThrownBy(() -> Sparsity.unitsToPrune(10, 11, 0.5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("alreadyPruned 11 is out of range: must be in [0, 10]");
    }

    @Test
    void aTargetOutsideZeroToOneIsRefused() {
        assertThatThrownBy(() -> Sparsity.unitsToPrune(10, 0, 1.5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("target 1.5 is out of range: a sparsity must be in [0, 1]");
        assertThatThrownBy(() -> Sparsity.targetCount(10, Double.NaN))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void aNegativeTotalIsRefused() {
        assertThatThrownBy(() -> Sparsity.targetCount(-1, 0.5))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("total -1 is out of range");
    }
}
