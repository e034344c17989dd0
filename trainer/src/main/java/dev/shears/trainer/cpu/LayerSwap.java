package dev.shears.trainer.cpu;

import java.util.Objects;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.LayerReplacement;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;

/**
 * How one of this package's oneDNN layers takes the place of DL4J's: which layers it replaces, the replacement for
 * one, and the replacement's class (how a replacement put in before is recognised). Each such layer's class holds one
 * as {@code SWAP}. Installing is idempotent and does nothing where oneDNN's presets do not load
 * ({@link OneDnn#available()}); call it after every (re)build of a network's layers (a clone or a deserialised
 * network has DL4J's own).
 */
public final class LayerSwap {
    private final Predicate<Layer> replaceable;
    private final UnaryOperator<Layer> replacement;
    private final Class<? extends Layer> replacementType;

    LayerSwap(Predicate<Layer> replaceable, UnaryOperator<Layer> replacement, Class<? extends Layer> replacementType) {
        this.replaceable = Objects.requireNonNull(replaceable, "replaceable");
        this.replacement = Objects.requireNonNull(replacement, "replacement");
        this.replacementType = Objects.requireNonNull(replacementType, "replacementType");
    }

    /** Replaces {@code net}'s replaceable layers; returns how many of its layers are replacements then. */
    public int install(MultiLayerNetwork net) {
        return OneDnn.available() ? LayerReplacement.replaceAll(net, replaceable, replacement, this::installed) : 0;
    }

    /** As {@link #install(MultiLayerNetwork)}, for the layers of a graph. */
    public int install(ComputationGraph graph) {
        return OneDnn.available() ? LayerReplacement.replaceAll(graph, replaceable, replacement, this::installed) : 0;
    }

    /** Whether {@code layer} is a replacement of this kind. */
    public boolean installed(Layer layer) {
        return replacementType.isInstance(layer);
    }
}
