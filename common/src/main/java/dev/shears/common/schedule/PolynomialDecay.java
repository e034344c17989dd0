package dev.shears.common.schedule;

import java.util.ArrayList;
import java.util.List;

/** The targets of polynomial decay: {@code s_k = s_f + (s_i - s_f)(1 - k/n)^power}, k = 1..n. */
final class PolynomialDecay {

    static final int MAX_STEPS = 10_000;

    private PolynomialDecay() {}

    static List<Double> targets(double initialSparsity, double finalSparsity, int steps, double power) {
        if (!(finalSparsity >= 0 && finalSparsity < 1)) {
            throw new IllegalArgumentException(
                    "finalSparsity " + finalSparsity + " is out of range: must be in [0, 1)");
        }
        if (!(initialSparsity >= 0 && initialSparsity <= finalSparsity)) {
            throw new IllegalArgumentException("initialSparsity " + initialSparsity + " is out of range: must be in"
                    + " [0, finalSparsity " + finalSparsity + "] (fix: the schedule only prunes more, never less)");
        }
        checkSteps(steps);
        if (!(power > 0 && power < Double.POSITIVE_INFINITY)) {
            throw new IllegalArgumentException("power " + power + " is out of range: must be a finite number above 0"
                    + " (fix: 3 for Zhu & Gupta's cubic, 1 for linear)");
        }
        List<Double> targets = new ArrayList<>(steps);
        for (int k = 1; k < steps; k++) {
            double remaining = 1.0 - (double) k / steps;
            targets.add(finalSparsity + (initialSparsity - finalSparsity) * Math.pow(remaining, power));
        }
        targets.add(finalSparsity);
        return targets;
    }

    static void checkSteps(int steps) {
        if (steps < 1 || steps > MAX_STEPS) {
            throw new IllegalArgumentException(
                    "steps " + steps + " is out of range: must be in [1, " + MAX_STEPS + "]");
        }
    }
}
