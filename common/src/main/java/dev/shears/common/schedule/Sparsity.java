package dev.shears.common.schedule;

/**
 * Turns absolute sparsity targets into counts, with PyTorch's rounding.
 *
 * <p>A schedule's targets are absolute: 0.5 then 0.75 means half, then three quarters, of all
 * selected weights. PyTorch's pruning container, and the prune library, apply an amount to what
 * is <em>still unpruned</em>, so a target cannot be passed on as a fraction (0.75 of the remaining
 * half would prune 87.5 %), and converting it to a fraction of the remainder would compound
 * rounding. The worker instead prunes {@code Amount.count(unitsToPrune(total, alreadyPruned,
 * target))} on what remains, which lands exactly on the count below.
 */
public final class Sparsity {

    private Sparsity() {}

    /**
     * How many of {@code total} units are pruned at sparsity {@code target}: Python's
     * {@code round(target * total)}, which rounds the double product half to even.
     *
     * @param total units (weights, or channels for structured pruning), at least 0
     * @param target in [0, 1]
     * @throws IllegalArgumentException when an argument is out of range
     */
    public static long targetCount(long total, double target) {
        if (total < 0) {
            throw new IllegalArgumentException("total " + total + " is out of range: a number of units is at least 0");
        }
        if (!(target >= 0 && target <= 1)) {
            throw new IllegalArgumentException("target " + target + " is out of range: a sparsity must be in [0, 1]");
        }
        return (long) Math.rint(target * total);
    }

    /**
     * The number of units to prune now so that, with {@code alreadyPruned} units already pruned,
     * exactly {@link #targetCount targetCount(total, target)} are pruned afterwards. Never
     * negative: a target below what is already pruned prunes nothing (pruning is not undone).
     *
     * @param total units in all, at least 0
     * @param alreadyPruned in [0, total]
     * @param target the absolute sparsity wanted after this step, in [0, 1]
     * @return a count in [0, total - alreadyPruned]
     * @throws IllegalArgumentException when an argument is out of range
     */
    public static long unitsToPrune(long total, long alreadyPruned, double target) {
        long wanted = targetCount(total, target);
        if (alreadyPruned < 0 || alreadyPruned > total) {
            throw new IllegalArgumentException("alreadyPruned " + alreadyPruned + " is out of range: must be in [0, "
                    + total + "], the total");
        }
        return Math.max(0, wanted - alreadyPruned);
    }
}
