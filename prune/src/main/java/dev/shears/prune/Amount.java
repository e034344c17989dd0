package dev.shears.prune;

/**
 * How much to prune, with PyTorch's two meanings: a {@linkplain #fraction(double) fraction} in
 * [0, 1] of what is still unpruned, or an absolute {@linkplain #count(long) count} of entries (or
 * channels). As in PyTorch, integer {@code 1} prunes one entry and {@code 1.0} prunes everything.
 *
 * @param value the fraction, or the count as a whole number
 * @param isCount whether {@code value} is a count
 */
public record Amount(double value, boolean isCount) {

    /** Validates as PyTorch's {@code _validate_pruning_amount_init} does. */
    public Amount {
        boolean bad = isCount ? value < 0 || value != Math.rint(value) : !(value >= 0.0 && value <= 1.0);
        if (bad) {
            throw new IllegalArgumentException("amount=" + format(value, isCount)
                    + " should either be a float in the range [0, 1] or a non-negative integer"
                    + " (fix: give a fraction such as 0.3 to prune 30 % of what is still unpruned,"
                    + " or a count of entries such as 12)");
        }
    }

    /** A fraction in [0, 1] of the entries (or channels) that are still unpruned. */
    public static Amount fraction(double fraction) {
        return new Amount(fraction, false);
    }

    /** An absolute number of entries (or channels) to prune; at most as many as remain. */
    public static Amount count(long count) {
        return new Amount(count, true);
    }

    /**
     * The number of units to prune out of {@code size}: the count itself, or Python's
     * {@code round(fraction * size)} (round half to even on the double product).
     *
     * @throws IllegalArgumentException when a count exceeds {@code size}
     */
    public long unitsToPrune(long size) {
        if (!isCount) {
            return (long) Math.rint(value * size);
        }
        long count = (long) value;
        if (count > size) {
            throw new IllegalArgumentException("amount=" + count
                    + " should be smaller than the number of parameters to prune=" + size
                    + " (fix: give a count in [0, " + size + "] or a fraction in [0, 1])");
        }
        return count;
    }

    @Override
    public String toString() {
        return format(value, isCount);
    }

    /** Python's repr of the amount: {@code 13} for a count, {@code 1.5} or {@code 0.3} for a float. */
    static String format(double value, boolean isCount) {
        if (isCount && value == Math.rint(value) && Math.abs(value) < 1e18) {
            return Long.toString((long) value);
        }
        if (value == Math.rint(value) && Math.abs(value) < 1e16) {
            return (long) value + ".0";
        }
        return Double.toString(value);
    }
}
