package dev.shears.common.policy;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.shears.common.policy.BudgetPolicy.Verdict;
import dev.shears.common.recipe.AccuracyBudget;
import dev.shears.common.recipe.AccuracyBudget.Policy;
import java.util.OptionalDouble;
import java.util.OptionalInt;
import org.junit.jupiter.api.Test;

class BudgetPolicyTest {

    static AccuracyBudget maxDrop(double drop, Policy policy, int maxRetries) {
        return new AccuracyBudget(OptionalDouble.empty(), OptionalDouble.of(drop), policy,
                policy == Policy.EXTRA_FINE_TUNE ? OptionalInt.of(100) : OptionalInt.empty(), maxRetries);
    }

    @Test
    void acceptsAStepWithinTheDropFromTheDenseAccuracy() {
        assertThat(BudgetPolicy.decide(maxDrop(0.02, Policy.STOP, 2), 0.88, 0.90, 0)).isEqualTo(Verdict.ACCEPT);
    }

    @Test
    void extraFineTunesUntilTheRetriesAreSpentThenStops() {
        AccuracyBudget budget = maxDrop(0.02, Policy.EXTRA_FINE_TUNE, 2);
        assertThat(BudgetPolicy.decide(budget, 0.80, 0.90, 0)).isEqualTo(Verdict.EXTRA_FINE_TUNE);
        assertThat(BudgetPolicy.decide(budget, 0.80, 0.90, 1)).isEqualTo(Verdict.EXTRA_FINE_TUNE);
        assertThat(BudgetPolicy.decide(budget, 0.80, 0.90, 2)).isEqualTo(Verdict.STOP);
    }

    @Test
    void rollsBackUntilTheRetriesAreSpentThenStops() {
        AccuracyBudget budget = maxDrop(0.02, Policy.ROLLBACK, 1);
        assertThat(BudgetPolicy.decide(budget, 0.80, 0.90, 0)).isEqualTo(Verdict.ROLLBACK);
        assertThat(BudgetPolicy.decide(budget, 0.80, 0.90, 1)).isEqualTo(Verdict.STOP);
    }

    @Test
    void stopPolicyStopsAtTheFirstMiss() {
        assertThat(BudgetPolicy.decide(maxDrop(0.02, Policy.STOP, 5), 0.80, 0.90, 0)).isEqualTo(Verdict.STOP);
    }

    @Test
    void smallerStepIsHalfwayBetweenTheLastGoodAndTheFailedTarget() {
        assertThat(BudgetPolicy.smallerStep(0.5, 0.7)).isCloseTo(0.6, org.assertj.core.data.Offset.offset(1e-12));
    }

    @Test
    void refusesANegativeCount() {
        assertThatThrownBy(() -> BudgetPolicy.decide(maxDrop(0.02, Policy.STOP, 2), 0.8, 0.9, -1))
                .hasMessageContaining("actionsSoFar -1").hasMessageContaining("fix:");
    }

    @Test
    void verdictCodesAreTheDecisionCodes() {
        assertThat(Verdict.EXTRA_FINE_TUNE.code()).isEqualTo("extra_fine_tune");
        assertThat(Verdict.ROLLBACK.code()).isEqualTo("rollback");
        assertThat(Verdict.STOP.code()).isEqualTo("stop");
    }
}
