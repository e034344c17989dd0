package dev.shears.prune;

import dev.shears.prune.internal.ChannelDependencies;
import dev.shears.prune.internal.Topology;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * The channel groups of a model (Torch-Pruning's {@code DependencyGraph}): which parameter slices must lose the
 * same channels so that the network still computes. Built from the model's structure alone, not from a forward
 * pass: convolutions (plain, depthwise, separable; NCHW), dense and output layers, batch normalisation,
 * activations, pooling, global pooling, dropout, zero-padding, cropping, upsampling, flattening into a dense
 * layer, residual additions (and the other element-wise vertices), concatenations, scale and shift vertices.
 * Channels that reach anything else, or a network output, make their group unprunable, with the reason. The
 * network's input channels and the classifier's outputs are never in a group.
 *
 * <pre>{@code
 * DependencyGroups groups = DependencyGroups.of(resnet);
 * for (ChannelGroup g : groups.prunable()) {
 *     pruning.groupStructured(g, Amount.fraction(0.5), GroupImportance.L2);
 * }
 * }</pre>
 */
public final class DependencyGroups {
    private final List<ChannelGroup> groups;

    private DependencyGroups(List<ChannelGroup> groups) {
        this.groups = List.copyOf(groups);
    }

    /** The groups of a sequential network (layers named as {@link Pruning#of(MultiLayerNetwork)} names them). */
    public static DependencyGroups of(MultiLayerNetwork network) {
        return of(Topology.of(network.getLayerWiseConfigurations()), ParameterTable.of(network));
    }

    /** The groups of a graph. */
    public static DependencyGroups of(ComputationGraph graph) {
        return of(Topology.of(graph.getConfiguration()), ParameterTable.of(graph));
    }

    private static DependencyGroups of(Topology topology, ParameterTable table) {
        List<ChannelGroup> groups = new ArrayList<>();
        for (ChannelDependencies.Group g : ChannelDependencies.of(topology).groups()) {
            List<ChannelGroup.Member> members = new ArrayList<>();
            for (ChannelDependencies.Member m : g.members()) {
                PrunableParameter p = table.find(m.layer(), m.key());
                if (p != null) {
                    members.add(new ChannelGroup.Member(p.name(), m.dim(), m.offset(), m.width(), m.role()));
                }
            }
            Optional<String> reason = g.reasons().isEmpty() ? Optional.empty()
                    : Optional.of(String.join("; ", g.reasons()));
            groups.add(new ChannelGroup(g.name(), g.channels(), members, g.producers(), reason));
        }
        return new DependencyGroups(groups);
    }

    /** Every group, prunable or not, in the model's order of their first producer. */
    public List<ChannelGroup> all() {
        return groups;
    }

    /** The groups that may be pruned. */
    public List<ChannelGroup> prunable() {
        return groups.stream().filter(ChannelGroup::prunable).toList();
    }

    /**
     * The group called {@code name} (its first producer's layer name).
     *
     * @throws IllegalArgumentException when there is none; the message lists the groups
     */
    public ChannelGroup group(String name) {
        return groups.stream().filter(g -> g.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no group '" + name + "' (fix: use one of "
                        + groups.stream().map(ChannelGroup::name).toList()
                        + "; a group is named by its first producer)"));
    }

    /** The group whose channels {@code layer} outputs, if it produces any. */
    public Optional<ChannelGroup> groupOf(String layer) {
        return groups.stream().filter(g -> g.producers().contains(layer)).findFirst();
    }

    /**
     * These groups with every group that a layer of {@code layers} produces, normalises or passes through a
     * depthwise convolution made unprunable (Torch-Pruning's {@code ignored_layers}): its outputs keep all
     * their channels. A layer that only reads a group's channels does not pin it.
     */
    public DependencyGroups excluding(Collection<String> layers) {
        Set<String> excluded = Set.copyOf(layers);
        List<ChannelGroup> result = new ArrayList<>();
        for (ChannelGroup g : groups) {
            Optional<String> layer = g.producers().stream().filter(excluded::contains).findFirst();
            if (layer.isEmpty()) {
                layer = g.members().stream().filter(m -> m.role() != ChannelGroup.Role.INPUT)
                        .map(m -> m.parameter().substring(0, m.parameter().lastIndexOf('.')))
                        .filter(excluded::contains).findFirst();
            }
            result.add(layer.map(l -> g.pinned(l + " is excluded")).orElse(g));
        }
        return new DependencyGroups(result);
    }
}
