package dev.shears.common.schedule;

import java.util.ArrayList;
import java.util.List;

/** The targets of iterative magnitude pruning: round k prunes {@code rate} of what round k - 1 left. */
final class LotteryTicket {

    /** Targets this close below {@code finalSparsity} count as reaching it (no sliver of a last round). */
    private static final double REACHED = 1e-12;

    private LotteryTicket() {}

    static List<Double> targets(double finalSparsity, double rate) {
        if (!(rate > 0 && rate < 1)) {
            throw new IllegalArgumentException("rate " + rate + " is out of range: must be in (0, 1)"
                    + " (fix: e.g. 0.2 prunes 20 % of what remains each round)");
        }
        if (!(finalSparsity >= 0 && finalSparsity < 1)) {
            throw new IllegalArgumentException(
                    "finalSparsity " + finalSparsity + " is out of range: must be in [0, 1)");
        }
        List<Double> targets = new ArrayList<>();
        for (int k = 1;; k++) {
            double target = 1.0 - Math.pow(1.0 - rate, k);
            if (target >= finalSparsity - REACHED) {
                targets.add(finalSparsity);
                return targets;
            }
            if (k >= PolynomialDecay.MAX_STEPS) {
                throw new IllegalArgumentException("rate " + rate + " needs more than " + PolynomialDecay.MAX_STEPS
                        + " rounds to reach finalSparsity " + finalSparsity + " (fix: raise the rate, e.g. 0.2)");
            }
            targets.add(target);
        }
    }
}
