package dev.shears.common.schedule;

import dev.shears.common.recipe.ScheduleSpec;
import java.util.List;

/**
 * The sparsity target of every pruning step, in order. Targets are absolute (the fraction of the
 * selected weights pruned after the step) and never decrease; steps are numbered 1..n.
 *
 * <p>The static methods build the usual shapes; {@link #of(ScheduleSpec)} builds the one a
 * recipe describes.
 */
public interface Schedule {

    /** The steps, numbered 1..n with non-decreasing targets; never empty, unmodifiable. */
    List<SchedulePoint> points();

    /** The number of steps. */
    default int steps() {
        return points().size();
    }

    /** The last step's target. */
    default double finalSparsity() {
        List<SchedulePoint> points = points();
        return points.get(points.size() - 1).targetSparsity();
    }

    /** The schedule a recipe's {@code schedule} section describes. */
    static Schedule of(ScheduleSpec spec) {
        return switch (spec.kind()) {
            case POLYNOMIAL -> polynomial(spec.initialSparsity(), spec.finalSparsity(), spec.steps().orElseThrow(),
                    spec.power().orElseThrow());
            case LINEAR -> linear(spec.initialSparsity(), spec.finalSparsity(), spec.steps().orElseThrow());
            case CONSTANT -> constant(spec.finalSparsity(), spec.steps().orElseThrow());
            case ONE_SHOT -> oneShot(spec.finalSparsity());
            case POINTS -> targets(spec.points());
            case LOTTERY_TICKET -> lotteryTicket(spec.finalSparsity(), spec.rate().orElseThrow());
        };
    }

    /**
     * Polynomial decay (TF-MOT's {@code PolynomialDecay}; Zhu &amp; Gupta 2017 with power 3):
     * step k of n targets {@code s_f + (s_i - s_f)(1 - k/n)^power}; the last is exactly {@code s_f}.
     *
     * @param initialSparsity {@code s_i}, in [0, finalSparsity]
     * @param finalSparsity {@code s_f}, in [0, 1)
     * @param steps n, at least 1
     * @param power greater than 0; larger prunes more in the early steps
     * @throws IllegalArgumentException when an argument is out of range
     */
    static Schedule polynomial(double initialSparsity, double finalSparsity, int steps, double power) {
        return new FixedSchedule(PolynomialDecay.targets(initialSparsity, finalSparsity, steps, power), false);
    }

    /** Polynomial decay with power 1: equal increments from {@code initialSparsity} to {@code finalSparsity}. */
    static Schedule linear(double initialSparsity, double finalSparsity, int steps) {
        return polynomial(initialSparsity, finalSparsity, steps, 1);
    }

    /** {@code steps} steps that each target {@code finalSparsity} (pruning again what regrowth or fine-tuning left). */
    static Schedule constant(double finalSparsity, int steps) {
        PolynomialDecay.checkSteps(steps);
        return new FixedSchedule(java.util.Collections.nCopies(steps, finalSparsity), false);
    }

    /** One step to {@code finalSparsity}. */
    static Schedule oneShot(double finalSparsity) {
        return constant(finalSparsity, 1);
    }

    /**
     * One step per target, in order.
     *
     * @throws IllegalArgumentException when {@code targets} is empty, decreases, or leaves [0, 1)
     */
    static Schedule targets(List<Double> targets) {
        return new FixedSchedule(targets, false);
    }

    /**
     * Iterative magnitude pruning with rewinding (Frankle &amp; Carbin's lottery ticket): round k
     * targets {@code 1 - (1 - rate)^k}, as many rounds as reaching {@code finalSparsity} takes; the
     * last round is clamped to exactly {@code finalSparsity}. Every point rewinds.
     *
     * @param finalSparsity in [0, 1)
     * @param rate the fraction of the remaining weights pruned each round, in (0, 1)
     * @throws IllegalArgumentException when an argument is out of range or more than 10000 rounds are needed
     */
    static Schedule lotteryTicket(double finalSparsity, double rate) {
        return new FixedSchedule(LotteryTicket.targets(finalSparsity, rate), true);
    }
}
