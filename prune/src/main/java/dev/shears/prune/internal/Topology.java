package dev.shears.prune.internal;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.Layer;

/**
 * A DL4J model's configuration seen as one graph, in topological order: a {@link MultiLayerConfiguration} is the
 * chain of its layers, a {@link ComputationGraphConfiguration} its vertices. The nodes refer to the configuration's
 * own layer and vertex objects, so that a caller holding a clone may change them.
 */
public final class Topology {

    /** Where the network's input enters a {@link MultiLayerConfiguration}'s chain. */
    public static final String MLN_INPUT = "(input)";

    /** What a node is. */
    public enum Kind {
        /** A network input. */
        INPUT,
        /** A layer, with its input preprocessor if any. */
        LAYER,
        /** A graph vertex without parameters: an addition, a concatenation, a preprocessor... */
        VERTEX
    }

    /**
     * One node.
     *
     * @param name the layer's name (for a {@link MultiLayerConfiguration}, the index when it has none) or vertex name
     * @param kind what it is
     * @param layer the layer's configuration, for {@link Kind#LAYER}
     * @param vertex the vertex's configuration, for {@link Kind#VERTEX} (and the {@link LayerVertex} of a graph layer)
     * @param inputs the nodes it reads, in order
     * @param preProcessor the preprocessor applied to its input, or null
     * @param index the layer's index in a {@link MultiLayerConfiguration}, else -1
     */
    public record Node(String name, Kind kind, Layer layer, GraphVertex vertex, List<String> inputs,
            InputPreProcessor preProcessor, int index) {
    }

    private final List<Node> nodes;
    private final Map<String, Node> byName = new HashMap<>();
    private final List<String> outputs;

    private Topology(List<Node> nodes, List<String> outputs) {
        this.nodes = List.copyOf(nodes);
        this.outputs = List.copyOf(outputs);
        nodes.forEach(n -> byName.put(n.name(), n));
    }

    /** The chain of a network's layers, after an input node {@link #MLN_INPUT}. */
    public static Topology of(MultiLayerConfiguration conf) {
        List<Node> nodes = new ArrayList<>();
        nodes.add(new Node(MLN_INPUT, Kind.INPUT, null, null, List.of(), null, -1));
        String previous = MLN_INPUT;
        int n = conf.getConfs().size();
        for (int i = 0; i < n; i++) {
            Layer layer = conf.getConf(i).getLayer();
            String name = layerName(layer, i);
            nodes.add(new Node(name, Kind.LAYER, layer, null, List.of(previous), conf.getInputPreProcess(i), i));
            previous = name;
        }
        return new Topology(nodes, List.of(previous));
    }

    /**
     * A graph's vertices in topological order; among the vertices ready at each point, the one added first (the
     * order a reader of the builder code expects: one branch of a block after the other).
     */
    public static Topology of(ComputationGraphConfiguration conf) {
        Map<String, GraphVertex> vertices = conf.getVertices();
        Map<String, List<String>> inputs = conf.getVertexInputs();
        List<String> names = new ArrayList<>(conf.getNetworkInputs());
        names.addAll(vertices.keySet());
        Map<String, Integer> index = new HashMap<>();
        int[] pending = new int[names.size()];
        Map<String, List<String>> readers = new HashMap<>();
        for (int i = 0; i < names.size(); i++) {
            String name = names.get(i);
            index.put(name, i);
            List<String> in = vertices.containsKey(name) ? inputs.getOrDefault(name, List.of()) : List.of();
            pending[i] = in.size();
            for (String r : in) {
                readers.computeIfAbsent(r, k -> new ArrayList<>()).add(name);
            }
        }
        PriorityQueue<Integer> ready = new PriorityQueue<>();
        for (int i = 0; i < pending.length; i++) {
            if (pending[i] == 0) {
                ready.add(i);
            }
        }
        List<Node> nodes = new ArrayList<>();
        while (!ready.isEmpty()) {
            String name = names.get(ready.poll());
            GraphVertex v = vertices.get(name);
            List<String> in = v == null ? List.of() : List.copyOf(inputs.getOrDefault(name, List.of()));
            if (v == null) {
                nodes.add(new Node(name, Kind.INPUT, null, null, List.of(), null, -1));
            } else if (v instanceof LayerVertex lv) {
                nodes.add(new Node(name, Kind.LAYER, lv.getLayerConf().getLayer(), lv, in, lv.getPreProcessor(), -1));
            } else {
                nodes.add(new Node(name, Kind.VERTEX, null, v, in, null, -1));
            }
            for (String r : readers.getOrDefault(name, List.of())) {
                Integer i = index.get(r);
                if (--pending[i] == 0) {
                    ready.add(i);
                }
            }
        }
        if (nodes.size() != names.size()) {
            throw new IllegalArgumentException("the graph has a cycle or reads a vertex it does not define: "
                    + (names.size() - nodes.size()) + " vertices are unreachable (fix: check its vertex inputs)");
        }
        return new Topology(nodes, conf.getNetworkOutputs());
    }

    /** The name a {@link MultiLayerConfiguration}'s layer goes by: its own, or its index. */
    public static String layerName(Layer layer, int index) {
        return layer.getLayerName() == null ? Integer.toString(index) : layer.getLayerName();
    }

    /** Every node, inputs first, each after the nodes it reads. */
    public List<Node> nodes() {
        return nodes;
    }

    /** The node called {@code name}. */
    public Node node(String name) {
        Node n = byName.get(name);
        if (n == null) {
            throw new IllegalArgumentException("no layer or vertex '" + name + "' in this model");
        }
        return n;
    }

    /** The nodes whose outputs are the network's outputs. */
    public List<String> outputs() {
        return outputs;
    }
}
