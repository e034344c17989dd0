package dev.shears.prune;

import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * Turns structured sparsity into a physically smaller network. A channel of a {@linkplain DependencyGroups
 * dependency group} is removed from every member of the group (convolution and dense weights and biases, batch
 * normalisation with its running statistics, depthwise convolutions, the readers' inputs, every producer of a
 * residual addition, its slice of a concatenation) when the network computes the same function without it: every
 * layer that reads the channel either has all-zero weights for it, or reads a constant (the channel's producers'
 * weights are all zero, so it outputs its activated bias; a batch normalisation with a zero scale outputs its
 * shift) that is folded into the reader's bias — exactly for a dense reader or an unpadded convolution with a
 * bias; before a padded convolution or padded pooling only a zero constant may go. A group whose channels would all
 * go keeps its first (DL4J layers have at least one output). Channels of groups that reach a network output or a
 * layer the groups do not follow stay. Group pruning ({@link Pruning#groupStructured}) masks every member, so all
 * its pruned channels go.
 *
 * <p>The given model is not modified.
 */
public final class Compaction {

    /**
     * @param model the smaller model, of the given model's kind
     * @param keptChannels per group that lost channels (by its name, the first producer's layer name), the indices of
     *     the channels kept, ascending
     * @param parametersBefore parameter count before
     * @param parametersAfter parameter count after
     */
    public record Result(Model model, Map<String, int[]> keptChannels, long parametersBefore, long parametersAfter) {
        public Result {
            keptChannels = Map.copyOf(keptChannels);
        }

        /** The smaller model as a network. */
        public MultiLayerNetwork network() {
            return ModelKinds.network(model, "compacted");
        }

        /** The smaller model as a graph. */
        public ComputationGraph graph() {
            return ModelKinds.graph(model, "compacted");
        }
    }

    private Compaction() {}

    /** Builds the compacted copy of a sequential network. */
    public static Result compact(MultiLayerNetwork network) {
        return GraphCompaction.compact(network);
    }

    /** Builds the compacted copy of a graph. */
    public static Result compact(ComputationGraph graph) {
        return GraphCompaction.compact(graph);
    }
}
