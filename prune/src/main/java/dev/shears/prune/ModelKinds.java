package dev.shears.prune;

import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/** The two DL4J model kinds, for the records that may hold either. */
final class ModelKinds {
    private ModelKinds() {}

    /** {@code model} as a network; {@code what} names it in the message when it is a graph. */
    static MultiLayerNetwork network(Model model, String what) {
        if (model instanceof MultiLayerNetwork net) {
            return net;
        }
        throw new IllegalStateException("the " + what + " model is a ComputationGraph (fix: call graph())");
    }

    /** {@code model} as a graph; {@code what} names it in the message when it is a network. */
    static ComputationGraph graph(Model model, String what) {
        if (model instanceof ComputationGraph graph) {
            return graph;
        }
        throw new IllegalStateException("the " + what + " model is a MultiLayerNetwork (fix: call network())");
    }
}
