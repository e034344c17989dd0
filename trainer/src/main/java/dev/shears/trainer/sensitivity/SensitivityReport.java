package dev.shears.trainer.sensitivity;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * What pruning each layer or dependency group alone does to a trained model's accuracy: one curve per unit, the
 * accuracy at each sparsity of the grid, against the dense model's.
 *
 * @param job the job the model comes from
 * @param denseAccuracy the unpruned model's accuracy, in [0, 1]
 * @param sparsities the grid, ascending, each in (0, 1)
 * @param curves one per unit, in model order
 */
public record SensitivityReport(String job, double denseAccuracy, List<Double> sparsities, List<Curve> curves) {

    /**
     * @param unit the layer's parameter ({@code layer1.0.conv1.weight}) or the dependency group (its first producer)
     * @param size its entries, or its channels for a group: its weight in a total sparsity
     * @param accuracy the accuracy with this unit alone pruned to each sparsity of the grid
     */
    public record Curve(String unit, long size, List<Double> accuracy) {
        public Curve {
            accuracy = List.copyOf(accuracy);
        }
    }

    /**
     * Per-unit targets for a total sparsity, found as NNI's sensitivity pruner finds them: every unit is pruned as
     * far as its curve stays within {@code threshold} of the dense accuracy (linearly between the grid's points),
     * and the threshold is the smallest that reaches the total.
     *
     * @param target the total asked, a fraction of all units' sizes
     * @param threshold the accuracy drop allowed to each unit on its own
     * @param sparsity per unit, in model order
     * @param achieved the total these targets give: {@code target}, or less when every unit at its largest
     *     sparsity of the grid does not reach it
     */
    public record Suggestion(double target, double threshold, Map<String, Double> sparsity, double achieved) {
    }

    public SensitivityReport {
        sparsities = List.copyOf(sparsities);
        curves = List.copyOf(curves);
        for (Curve c : curves) {
            if (c.accuracy().size() != sparsities.size()) {
                throw new IllegalArgumentException("the curve of " + c.unit() + " has " + c.accuracy().size()
                        + " points for a grid of " + sparsities.size() + " sparsities");
            }
        }
    }

    /**
     * The per-unit targets that reach {@code total} with the least accuracy drop allowed to any unit alone.
     *
     * @param total a fraction in [0, 1) of all units' sizes
     * @throws IllegalArgumentException when {@code total} is out of range
     */
    public Suggestion suggest(double total) {
        if (!(total >= 0 && total < 1)) {
            throw new IllegalArgumentException("total sparsity " + total + " is out of range: a fraction in [0, 1)"
                    + " (fix: e.g. 0.5)");
        }
        double lo = 0;
        double hi = 1;
        if (overall(hi) < total) {
            return suggestion(total, hi);
        }
        for (int i = 0; i < 60; i++) {
            double mid = (lo + hi) / 2;
            if (overall(mid) >= total) {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        return suggestion(total, hi);
    }

    private Suggestion suggestion(double total, double threshold) {
        Map<String, Double> targets = new LinkedHashMap<>();
        curves.forEach(c -> targets.put(c.unit(), allowed(c, threshold)));
        return new Suggestion(total, threshold, targets, overall(threshold));
    }

    private double overall(double threshold) {
        double pruned = 0;
        double size = 0;
        for (Curve c : curves) {
            pruned += c.size() * allowed(c, threshold);
            size += c.size();
        }
        return size == 0 ? 0 : pruned / size;
    }

    /**
     * The largest sparsity along the unit's curve, from (0, dense) through the grid's points, before its accuracy
     * first falls below {@code dense - threshold}.
     */
    double allowed(Curve c, double threshold) {
        double floor = denseAccuracy - threshold;
        double prevS = 0;
        double prevA = denseAccuracy;
        for (int i = 0; i < sparsities.size(); i++) {
            double s = sparsities.get(i);
            double a = c.accuracy().get(i);
            if (a < floor) {
                return prevA <= floor ? prevS : prevS + (s - prevS) * (prevA - floor) / (prevA - a);
            }
            prevS = s;
            prevA = a;
        }
        return prevS;
    }

    /** The curves as a table: a row per unit, a column per sparsity, accuracies in percent. */
    public String table() {
        int width = Math.max(4, curves.stream().mapToInt(c -> c.unit().length()).max().orElse(4));
        StringBuilder out = new StringBuilder();
        out.append(String.format(Locale.ROOT, "%-" + width + "s %9s", "unit", "size"));
        sparsities.forEach(s -> out.append(String.format(Locale.ROOT, " %6.0f%%", 100 * s)));
        out.append('\n');
        out.append(String.format(Locale.ROOT, "%-" + width + "s %9s", "(dense)", ""));
        sparsities.forEach(s -> out.append(String.format(Locale.ROOT, " %7.2f", 100 * denseAccuracy)));
        out.append('\n');
        for (Curve c : curves) {
            out.append(String.format(Locale.ROOT, "%-" + width + "s %9d", c.unit(), c.size()));
            c.accuracy().forEach(a -> out.append(String.format(Locale.ROOT, " %7.2f", 100 * a)));
            out.append('\n');
        }
        return out.toString();
    }

    /** The suggestion as a table: each unit's target. */
    public static String table(Suggestion s) {
        List<String> lines = new ArrayList<>();
        lines.add(String.format(Locale.ROOT, "targets for a total of %.2f%% (reached %.2f%%), each unit within %.2f"
                + " points of the dense accuracy on its own:", 100 * s.target(), 100 * s.achieved(),
                100 * s.threshold()));
        s.sparsity().forEach((unit, t) -> lines.add(String.format(Locale.ROOT, "  %-40s %6.2f%%", unit, 100 * t)));
        return String.join("\n", lines) + "\n";
    }
}
