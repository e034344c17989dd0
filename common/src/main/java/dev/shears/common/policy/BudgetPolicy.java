package dev.shears.common.policy;

import dev.shears.common.recipe.AccuracyBudget;
import java.util.Locale;
import java.util.Objects;

/**
 * The accuracy budget applied to one evaluated pruning step: keep it, or what to do instead. Pure
 * and stateless; the caller counts how often the policy has already acted on the step.
 *
 * <p>{@code extra_fine_tune} and {@code rollback} act at most {@code maxRetries} times on one step;
 * after that, and always under {@code stop}, the verdict is {@link Verdict#STOP}: the run ends at
 * the last step within budget.
 */
public final class BudgetPolicy {

    /** What to do with an evaluated step. */
    public enum Verdict {
        /** Within budget: keep the step and go on. */
        ACCEPT,
        /** Below budget: fine-tune the same step for the budget's {@code extraIterations} more. */
        EXTRA_FINE_TUNE,
        /** Below budget: restore the last good checkpoint and retry the step with a smaller step. */
        ROLLBACK,
        /** Below budget and out of retries: end the run at the last good step. */
        STOP;

        /** The decision code of {@code SchedulerDecision}, e.g. {@code extra_fine_tune}; {@code ok} for ACCEPT. */
        public String code() {
            return this == ACCEPT ? "ok" : name().toLowerCase(Locale.ROOT);
        }
    }

    private BudgetPolicy() {}

    /**
     * The verdict on a step that reached {@code accuracy}.
     *
     * @param budget the recipe's accuracy budget
     * @param accuracy the step's test accuracy, in [0, 1]
     * @param denseAccuracy the dense model's test accuracy, in [0, 1]
     * @param actionsSoFar how many times the policy already acted on this step (extra fine-tunes or
     *     roll-backs), at least 0
     * @throws IllegalArgumentException when {@code actionsSoFar} is negative
     */
    public static Verdict decide(AccuracyBudget budget, double accuracy, double denseAccuracy, int actionsSoFar) {
        Objects.requireNonNull(budget, "budget");
        if (actionsSoFar < 0) {
            throw new IllegalArgumentException("actionsSoFar " + actionsSoFar
                    + " is negative (fix: count the extra fine-tunes or roll-backs done on the step, from 0)");
        }
        if (budget.accepts(accuracy, denseAccuracy)) {
            return Verdict.ACCEPT;
        }
        boolean retriesLeft = actionsSoFar < budget.maxRetries();
        return switch (budget.policy()) {
            case EXTRA_FINE_TUNE -> retriesLeft ? Verdict.EXTRA_FINE_TUNE : Verdict.STOP;
            case ROLLBACK -> retriesLeft ? Verdict.ROLLBACK : Verdict.STOP;
            case STOP -> Verdict.STOP;
        };
    }

    /**
     * The target of a step retried after a roll-back: halfway between the last good target and the
     * target that broke the budget, so each retry prunes half as much more.
     *
     * @param lastGoodTarget the target of the last step within budget, in [0, 1)
     * @param failedTarget the target that broke the budget, in [0, 1)
     */
    public static double smallerStep(double lastGoodTarget, double failedTarget) {
        return lastGoodTarget + (failedTarget - lastGoodTarget) / 2;
    }
}
