package dev.shears.trainer.cpu;

import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.LayerReplacement;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * What one of this package's oneDNN layers replaces, and how: the layers it takes the place of ({@code replaceable}),
 * the replacement for one ({@code replacement}), and how to recognise a replacement put in before ({@code replaced}).
 * Installing does nothing where oneDNN's presets do not load.
 */
record LayerSwap(Predicate<Layer> replaceable, UnaryOperator<Layer> replacement, Predicate<Layer> replaced) {

    /** Replaces {@code net}'s replaceable layers; returns how many of its layers are replacements then. */
    int install(MultiLayerNetwork net) {
        return OneDnn.available() ? LayerReplacement.replaceAll(net, replaceable, replacement, replaced) : 0;
    }

    /** As {@link #install(MultiLayerNetwork)}, for a graph. */
    int install(ComputationGraph graph) {
        return OneDnn.available() ? LayerReplacement.replaceAll(graph, replaceable, replacement, replaced) : 0;
    }
}
