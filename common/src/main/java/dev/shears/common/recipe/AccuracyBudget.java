package dev.shears.common.recipe;

import java.util.Locale;
import java.util.Objects;
import java.util.OptionalDouble;
import java.util.OptionalInt;

/**
 * The {@code accuracyBudget} section: how much accuracy pruning may cost, and what happens when a
 * step costs more. The bound is either absolute ({@code minAccuracy}) or relative to the dense
 * model ({@code maxDrop}), never both.
 *
 * @param minAccuracy the lowest acceptable test accuracy, in [0, 1]
 * @param maxDrop the largest acceptable drop below the dense model's accuracy, in [0, 1]
 * @param policy what to do when a step breaks the budget
 * @param extraIterations fine-tune iterations per extra round, in [1, 10^7]; present exactly for
 *     {@link Policy#EXTRA_FINE_TUNE}
 * @param maxRetries how many times the policy may act on one step before the run stops, in [0, 100]
 */
public record AccuracyBudget(
        OptionalDouble minAccuracy,
        OptionalDouble maxDrop,
        Policy policy,
        OptionalInt extraIterations,
        int maxRetries) {

    static final String SECTION = "accuracyBudget";
    /** The extra iterations extra_fine_tune gets when none are given. */
    public static final int DEFAULT_EXTRA_ITERATIONS = 469;

    /** Differences this small are floating-point noise, not accuracy. */
    public static final double TOLERANCE = 1e-9;

    /** What to do when a pruning step breaks the budget. */
    public enum Policy {
        /** Fine-tune for {@code extraIterations} more and evaluate again. */
        EXTRA_FINE_TUNE,
        /** Go back to the last checkpoint within budget. */
        ROLLBACK,
        /** Stop the run; the best checkpoint within budget stays the result. */
        STOP;

        /** Whether {@code extraIterations} applies. */
        public boolean usesExtraIterations() {
            return this == EXTRA_FINE_TUNE;
        }

        /** The recipe's spelling, e.g. {@code extra_fine_tune}. */
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    /** @throws RecipeException listing every field out of range, both bounds given, or neither */
    public AccuracyBudget {
        Objects.requireNonNull(minAccuracy, "minAccuracy");
        Objects.requireNonNull(maxDrop, "maxDrop");
        Objects.requireNonNull(policy, "policy");
        Objects.requireNonNull(extraIterations, "extraIterations");
        Problems.require(SECTION, p -> check(minAccuracy, maxDrop, policy, extraIterations, maxRetries, p));
    }

    /** No bound (minAccuracy 0), policy stop, 2 retries. */
    public static AccuracyBudget defaults() {
        return new AccuracyBudget(OptionalDouble.of(0.0), OptionalDouble.empty(), Policy.STOP, OptionalInt.empty(), 2);
    }

    /**
     * Whether {@code accuracy} is within the budget, allowing {@value #TOLERANCE} for rounding
     * (0.90 - 0.88 is 0.020000000000000018 in doubles).
     *
     * @param accuracy the pruned model's test accuracy, in [0, 1]
     * @param denseAccuracy the dense model's test accuracy, in [0, 1]; read only for {@code maxDrop}
     */
    public boolean accepts(double accuracy, double denseAccuracy) {
        if (minAccuracy.isPresent()) {
            return accuracy >= minAccuracy.getAsDouble() - TOLERANCE;
        }
        return denseAccuracy - accuracy <= maxDrop.getAsDouble() + TOLERANCE;
    }

    /**
     * The lowest accuracy within the budget: {@code minAccuracy}, or the dense accuracy less {@code maxDrop}.
     *
     * @param denseAccuracy the dense model's test accuracy; read only for {@code maxDrop} (NaN when not known yet)
     * @return the floor, NaN for a {@code maxDrop} budget before the dense accuracy is known
     */
    public double floor(double denseAccuracy) {
        return minAccuracy.isPresent() ? minAccuracy.getAsDouble() : denseAccuracy - maxDrop.getAsDouble();
    }

    static void check(OptionalDouble minAccuracy, OptionalDouble maxDrop, Policy policy,
            OptionalInt extraIterations, Integer maxRetries, Problems p) {
        String f = SECTION + ".";
        if (minAccuracy != null && maxDrop != null) {
            if (minAccuracy.isPresent() && maxDrop.isPresent()) {
                p.add(f + "maxDrop", maxDrop, "cannot be combined with accuracyBudget.minAccuracy "
                        + Problems.num(minAccuracy.getAsDouble()) + ": the budget is one or the other"
                        + " (fix: keep minAccuracy for an absolute floor, or maxDrop for a drop from the dense accuracy)");
            } else if (minAccuracy.isEmpty() && maxDrop.isEmpty()) {
                p.missing(f + "minAccuracy", "the budget needs minAccuracy or maxDrop (fix: e.g. minAccuracy: 0"
                        + " for no bound)");
            }
        }
        if (minAccuracy != null && minAccuracy.isPresent()) {
            p.range(f + "minAccuracy", minAccuracy.getAsDouble(), 0, true, 1, true, "an accuracy such as 0.85");
        }
        if (maxDrop != null && maxDrop.isPresent()) {
            p.range(f + "maxDrop", maxDrop.getAsDouble(), 0, true, 1, true,
                    "an absolute drop in accuracy such as 0.02 for two points");
        }
        if (p.takenOnlyBy(f + "extraIterations", extraIterations, "policy", policy, Policy::usesExtraIterations,
                "a number of iterations (fix: e.g. extraIterations: " + DEFAULT_EXTRA_ITERATIONS + ")")) {
            p.range(f + "extraIterations", extraIterations.getAsInt(), 1, FineTune.MAX_ITERATIONS, "e.g. 469");
        }
        p.range(f + "maxRetries", maxRetries, 0, 100, "e.g. 2");
    }
}
