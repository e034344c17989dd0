package org.deeplearning4j.nn.multilayer;

import java.util.List;
import java.util.function.ObjIntConsumer;
import java.util.function.Predicate;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.Trainable;
import org.deeplearning4j.nn.api.Updater;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.impl.LayerVertex;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.updater.BaseMultiLayerUpdater;
import org.deeplearning4j.nn.updater.UpdaterBlock;

/**
 * Puts another object in a layer's place in a {@link MultiLayerNetwork} (its layer array, its map of layers by name,
 * a field DL4J keeps protected, and its updater's references) or a {@link ComputationGraph} (its layer array and the
 * layer's vertex, which the graph's updater refers to). For Shears' {@code dev.shears.trainer.cpu} layers,
 * which are DL4J's own layer classes with a faster path and share the replaced layer's configuration, parameters,
 * gradient views and updater state. Lives in DL4J's package for that one field; no reflection.
 */
public final class LayerReplacement {
    private LayerReplacement() {}

    /**
     * Replaces layer {@code index} of {@code net} by {@code replacement}, everywhere the network and its updater (if
     * it has one yet) refer to it.
     *
     * @throws IllegalArgumentException when the index is out of range or the replacement has another index
     */
    public static void replace(MultiLayerNetwork net, int index, Layer replacement) {
        Layer[] layers = net.getLayers();
        if (index < 0 || index >= layers.length) {
            throw new IllegalArgumentException("layer index " + index + " is out of range: the network has "
                    + layers.length + " layers");
        }
        if (replacement.getIndex() != index) {
            throw new IllegalArgumentException("the replacement for layer " + index + " has index "
                    + replacement.getIndex() + ": set it with setIndex first");
        }
        Layer old = layers[index];
        layers[index] = replacement;
        net.layerMap.replaceAll((name, layer) -> layer == old ? replacement : layer);
        Updater updater = net.getUpdater(false);
        if (updater instanceof BaseMultiLayerUpdater<?> multi) {
            multi.getLayersByName().replaceAll((name, layer) -> layer == old ? (Trainable) replacement : layer);
            for (UpdaterBlock block : multi.getUpdaterBlocks()) {
                List<UpdaterBlock.ParamState> states = block.getLayersAndVariablesInBlock();
                for (int i = 0; i < states.size(); i++) {
                    UpdaterBlock.ParamState s = states.get(i);
                    if (s.getLayer() == old) {
                        states.set(i, new UpdaterBlock.ParamState((Trainable) replacement, s.getParamName(),
                                s.getParamOffsetStart(), s.getParamOffsetEnd(), s.getParamView(), s.getGradView()));
                    }
                }
            }
        }
    }

    /**
     * Replaces the layer at {@code position} in {@code graph}'s layer array by {@code replacement}, in that array and
     * in the vertex that holds it. The graph's updater refers to vertices, not layers: it needs no change.
     *
     * @throws IllegalArgumentException when the position is out of range
     */
    public static void replace(ComputationGraph graph, int position, Layer replacement) {
        Layer[] layers = graph.getLayers();
        if (position < 0 || position >= layers.length) {
            throw new IllegalArgumentException("layer position " + position + " is out of range: the graph has "
                    + layers.length + " layers");
        }
        Layer old = layers[position];
        for (GraphVertex vertex : graph.getVertices()) {
            if (vertex instanceof LayerVertex layerVertex && layerVertex.getLayer() == old) {
                layerVertex.setLayer(replacement);
            }
        }
        layers[position] = replacement;
    }

    /**
     * Puts {@code replacement.apply(layer)} in place of each layer of {@code net} that {@code replaceable} accepts, and
     * returns how many of its layers are replacements then: those replaced now and those {@code replaced} recognises
     * from before (so that installing twice changes nothing and counts the same).
     */
    public static int replaceAll(MultiLayerNetwork net, Predicate<Layer> replaceable,
            UnaryOperator<Layer> replacement, Predicate<Layer> replaced) {
        return replaceAll(net.getLayers(), replaceable, replacement, replaced, (layer, i) -> replace(net, i, layer));
    }

    /** As {@link #replaceAll(MultiLayerNetwork, Predicate, UnaryOperator, Predicate)}, for the layers of a graph. */
    public static int replaceAll(ComputationGraph graph, Predicate<Layer> replaceable,
            UnaryOperator<Layer> replacement, Predicate<Layer> replaced) {
        return replaceAll(graph.getLayers(), replaceable, replacement, replaced,
                (layer, i) -> replace(graph, i, layer));
    }

    private static int replaceAll(Layer[] layers, Predicate<Layer> replaceable, UnaryOperator<Layer> replacement,
            Predicate<Layer> replaced, ObjIntConsumer<Layer> replace) {
        int count = 0;
        for (int i = 0; i < layers.length; i++) {
            if (replaced.test(layers[i])) {
                count++;
            } else if (replaceable.test(layers[i])) {
                replace.accept(replacement.apply(layers[i]), i);
                count++;
            }
        }
        return count;
    }

    /**
     * Gives {@code replacement}, a new layer of the same configuration, what else {@code layer} holds: its listeners,
     * index, cache mode and counters, and its parameters and gradient views (where it has them), shared, not copied.
     * For the constructors of the replacements, before {@link #replace}.
     */
    public static void takeState(AbstractLayer<?> layer, Layer replacement) {
        replacement.setListeners(layer.getListeners());
        replacement.setIndex(layer.getIndex());
        if (layer.numParams() > 0) {
            replacement.setParamsViewArray(layer.params());
            replacement.setParamTable(layer.paramTable());
            if (layer.getGradientsViewArray() != null) {
                replacement.setBackpropGradientsViewArray(layer.getGradientsViewArray());
            }
        }
        replacement.setCacheMode(layer.getCacheMode());
        replacement.setIterationCount(layer.getIterationCount());
        replacement.setEpochCount(layer.getEpochCount());
    }
}
