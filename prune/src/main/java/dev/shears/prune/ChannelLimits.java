package dev.shears.prune;

/**
 * Bounds on what group pruning leaves of a group (Torch-Pruning's {@code max_ch_sparsity} and {@code round_to}):
 * at least {@code minChannels} channels stay (fewer only if fewer are alive), and the number kept is rounded up to
 * a multiple of {@code roundTo} (at most what is alive), so that kernels see friendly sizes. Both only ever prune
 * less than asked.
 *
 * @param minChannels channels every group keeps, >= 0
 * @param roundTo the kept count is a multiple of this, >= 1 (1 = no rounding)
 */
public record ChannelLimits(int minChannels, int roundTo) {

    /** No bounds: exactly {@code ln_structured}'s semantics, a group may lose every channel. */
    public static final ChannelLimits NONE = new ChannelLimits(0, 1);
    /** Every group keeps at least one channel; no rounding. */
    public static final ChannelLimits KEEP_ONE = new ChannelLimits(1, 1);

    public ChannelLimits {
        if (minChannels < 0 || roundTo < 1) {
            throw new IllegalArgumentException("minChannels " + minChannels + " and roundTo " + roundTo
                    + " are out of range (fix: minChannels >= 0, roundTo >= 1)");
        }
    }

    /** How many of {@code alive} channels stay when {@code wanted} were asked to stay. */
    long keep(long alive, long wanted) {
        long k = Math.max(wanted, Math.min(minChannels, alive));
        if (roundTo > 1) {
            k = Math.min(alive, (k + roundTo - 1) / roundTo * roundTo);
        }
        return k;
    }
}
