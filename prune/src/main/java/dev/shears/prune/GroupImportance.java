package dev.shears.prune;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * How a {@link ChannelGroup}'s channels are ranked (Torch-Pruning's {@code GroupNormImportance}): channel
 * {@code c}'s score is the {@code norm} of its slice in each member whose role is in {@code roles}, each member's
 * norm rescaled to the first member's slice size (times {@code unit(first) / unit(member)}, {@code unit(n)} being
 * the norm of {@code n} ones), then summed or averaged over the members. A one-member group's scores are therefore
 * exactly that parameter's channel norms, as {@code ln_structured} ranks them. Across groups (global pruning) the
 * scores are divided by the first member's unit: every member counts per entry, so that wide and narrow layers
 * compare fairly.
 *
 * @param norm the channel norm (L1, L2, or any of {@link Norm})
 * @param reduction how members' norms combine
 * @param roles which members count; at least one, typically the weights
 */
public record GroupImportance(Norm norm, Reduction reduction, Set<ChannelGroup.Role> roles) {

    /** The weights' roles: producers' outputs, readers' inputs, depthwise kernels. */
    public static final Set<ChannelGroup.Role> WEIGHTS = Set.copyOf(EnumSet.of(ChannelGroup.Role.OUTPUT,
            ChannelGroup.Role.INPUT, ChannelGroup.Role.DEPTHWISE));
    /** The L2 norm averaged over the group's weights (DepGraph's default group norm). */
    public static final GroupImportance L2 = new GroupImportance(Norm.L2, Reduction.MEAN, WEIGHTS);
    /** The L1 norm averaged over the group's weights. */
    public static final GroupImportance L1 = new GroupImportance(Norm.L1, Reduction.MEAN, WEIGHTS);

    /** How members' norms combine into a channel's score. */
    public enum Reduction {
        /** Their mean. */
        MEAN,
        /** Their sum. */
        SUM;

        /** The recipe's spelling, {@code mean} or {@code sum}. */
        @Override
        public String toString() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    public GroupImportance {
        Objects.requireNonNull(norm, "norm");
        Objects.requireNonNull(reduction, "reduction");
        roles = Set.copyOf(roles);
        if (roles.isEmpty()) {
            throw new IllegalArgumentException("a group importance needs at least one role to read"
                    + " (fix: e.g. GroupImportance.WEIGHTS)");
        }
    }

    /** {@code norm}, reduced by {@code reduction} over the group's weights. */
    public static GroupImportance of(Norm norm, Reduction reduction) {
        return new GroupImportance(norm, reduction, WEIGHTS);
    }
}
