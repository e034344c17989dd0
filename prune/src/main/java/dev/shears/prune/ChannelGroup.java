package dev.shears.prune;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Channels that can only be removed together: a convolution's (or dense layer's) outputs with everything tied to
 * them — its bias and batch normalisation, the depthwise convolutions they pass through, the inputs of the layers
 * that read them, and every other producer added to them by a residual connection. Removing channel {@code c}
 * removes slice {@code c} of every {@linkplain #members() member}. Groups come from {@link DependencyGroups}; a
 * group of one parameter ({@link #of(PrunableParameter, int)}) is what {@code ln_structured} prunes.
 *
 * @param name the group's name: the first layer, in the model's order, whose outputs are its channels
 * @param channels how many channels it has
 * @param members every parameter slice tied to the channels, in the model's order
 * @param producers the layers whose outputs are the channels (several when residual additions tie them)
 * @param reason why the group cannot be pruned (it reaches a network output, or a layer whose channels cannot be
 *     sliced), or empty when it can
 */
public record ChannelGroup(String name, int channels, List<Member> members, List<String> producers,
        Optional<String> reason) {

    /** What a member slice is to its channel. */
    public enum Role {
        /** A producer's weight along its outputs (dim 0 of a convolution, dense or separable pointwise weight). */
        OUTPUT,
        /** A reader's weight along its inputs (dim 1 of a convolution or dense weight; a separable's slices). */
        INPUT,
        /** A depthwise convolution's weight along the channels it passes through (dim 0). */
        DEPTHWISE,
        /** A bias along the channels. */
        BIAS,
        /** A batch normalisation's scale ({@code weight}, DL4J's gamma). */
        NORM_SCALE,
        /** A batch normalisation's shift ({@code bias}, DL4J's beta). */
        NORM_SHIFT,
        /** A batch normalisation's running mean or variance: sliced by compaction, never masked. */
        NORM_STATISTIC;

        /** Whether pruning the group masks this member (all but the running statistics). */
        public boolean masked() {
            return this != NORM_STATISTIC;
        }

        /** Whether this member is a weight of a convolution or dense layer (what group importance reads). */
        public boolean weight() {
            return this == OUTPUT || this == INPUT || this == DEPTHWISE;
        }
    }

    /**
     * Channel {@code c} of the group is the slice {@code [offset + c·width, offset + (c+1)·width)} along {@code dim}
     * of {@code parameter}, in PyTorch layout: width 1 for a convolution's channels, {@code h·w} where a channel was
     * flattened into a dense layer's inputs (channel-major, as DL4J flattens {@code [c, h, w]}), the depth multiplier
     * after a depthwise convolution; the offset is where the channels start in a concatenation.
     *
     * @param parameter the parameter's PyTorch-style name ({@code conv1.weight})
     * @param dim the dimension, in PyTorch layout
     * @param offset the index channel 0 starts at
     * @param width indices per channel, at least 1
     * @param role what the slice is
     */
    public record Member(String parameter, int dim, int offset, int width, Role role) {
        public Member {
            Objects.requireNonNull(parameter, "parameter");
            Objects.requireNonNull(role, "role");
            if (dim < 0 || offset < 0 || width < 1) {
                throw new IllegalArgumentException("member " + parameter + " has dim " + dim + ", offset " + offset
                        + ", width " + width + " (fix: dim and offset must be >= 0 and width >= 1)");
            }
        }
    }

    public ChannelGroup {
        Objects.requireNonNull(name, "name");
        members = List.copyOf(members);
        producers = List.copyOf(producers);
        Objects.requireNonNull(reason, "reason");
        if (channels < 1 || members.isEmpty()) {
            throw new IllegalArgumentException("group " + name + " has " + channels + " channels and " + members.size()
                    + " members (fix: a group needs at least one channel and one member)");
        }
    }

    /**
     * The group of one parameter's channels along {@code dim} alone: pruning it is exactly
     * {@link Pruning#lnStructured} on that parameter (same channels, same rounding).
     *
     * @param dim the dimension, may be negative as in PyTorch
     */
    public static ChannelGroup of(PrunableParameter parameter, int dim) {
        int d = dev.shears.prune.internal.Channels.checkDim(parameter.shape(), dim);
        return new ChannelGroup(parameter.name(), Math.toIntExact(parameter.shape()[d]),
                List.of(new Member(parameter.name(), d, 0, 1, Role.OUTPUT)), List.of(parameter.layer()),
                Optional.empty());
    }

    /** Whether the group may be pruned. */
    public boolean prunable() {
        return reason.isEmpty();
    }

    /** The names of the parameters pruning masks, in the model's order, each once. */
    public List<String> maskedParameters() {
        return members.stream().filter(m -> m.role().masked()).map(Member::parameter).distinct().toList();
    }

    /** This group, pinned: it will not be pruned, for {@code why}. */
    ChannelGroup pinned(String why) {
        return new ChannelGroup(name, channels, members, producers,
                Optional.of(reason.map(r -> r + "; " + why).orElse(why)));
    }
}
