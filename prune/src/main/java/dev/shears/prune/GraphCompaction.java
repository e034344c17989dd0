package dev.shears.prune;

import dev.shears.prune.internal.ChannelConstants;
import dev.shears.prune.internal.ChannelDependencies;
import dev.shears.prune.internal.ChannelDependencies.Seg;
import dev.shears.prune.internal.Channels;
import dev.shears.prune.internal.Topology;
import dev.shears.prune.internal.Topology.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.BiConsumer;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Convolution2D;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.FeedForwardLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * The machinery behind {@link Compaction}: which channels of each dependency group can go without changing the
 * network's function, the constants they leave folded into their readers' biases, and the smaller configuration
 * and parameters. Works on a clone of the configuration; the model is not modified.
 */
final class GraphCompaction {

    /** Where a reader (convolution, dense, output or separable layer) reads channel {@code channel} of a group. */
    private record Read(Node reader, int root, int channel, int position) {
    }

    private final ChannelDependencies deps;
    private final ParameterTable table;
    private final ChannelConstants constants;
    private final Map<String, INDArray> values = new LinkedHashMap<>();
    private final Map<Integer, boolean[]> removed = new HashMap<>();
    private final Map<String, int[]> kept = new LinkedHashMap<>();
    private final List<Read> reads = new ArrayList<>();

    private GraphCompaction(Topology topology, ParameterTable table) {
        this.deps = ChannelDependencies.of(topology);
        this.table = table;
        for (PrunableParameter p : table.parameters()) {
            values.put(p.name(), table.view(p).dup('c'));
        }
        this.constants = ChannelConstants.of(deps, this::value);
        collectReads();
        decide();
        fold();
        slice();
    }

    static Compaction.Result compact(MultiLayerNetwork network) {
        MultiLayerConfiguration conf = network.getLayerWiseConfigurations().clone();
        Topology topology = Topology.of(conf);
        GraphCompaction c = new GraphCompaction(topology, ParameterTable.of(network));
        c.resize(topology, (node, pre) -> conf.getInputPreProcessors().put(node.index(), pre));
        MultiLayerNetwork smaller = new MultiLayerNetwork(conf);
        smaller.init();
        c.fill(ParameterTable.of(smaller));
        return new Compaction.Result(smaller, c.kept, network.numParams(), smaller.numParams());
    }

    static Compaction.Result compact(ComputationGraph graph) {
        ComputationGraphConfiguration conf = graph.getConfiguration().clone();
        Topology topology = Topology.of(conf);
        GraphCompaction c = new GraphCompaction(topology, ParameterTable.of(graph));
        c.resize(topology, (node, pre) -> {
            if (node.vertex() instanceof LayerVertex lv) {
                lv.setPreProcessor(pre);
            } else {
                ((PreprocessorVertex) node.vertex()).setPreProcessor(pre);
            }
        });
        ComputationGraph smaller = new ComputationGraph(conf);
        smaller.init();
        c.fill(ParameterTable.of(smaller));
        return new Compaction.Result(smaller, c.kept, graph.numParams(), smaller.numParams());
    }

    private INDArray value(String layer, String key) {
        PrunableParameter p = table.find(layer, key);
        return p == null ? null : values.get(p.name());
    }

    private static boolean reads(Layer l) {
        return l.getClass() == ConvolutionLayer.class || l.getClass() == Convolution2D.class
                || l.getClass() == DenseLayer.class || l.getClass() == OutputLayer.class
                || l.getClass() == SeparableConvolution2D.class;
    }

    private void collectReads() {
        for (Node n : deps.topology().nodes()) {
            List<Seg> in = n.kind() == Topology.Kind.LAYER && reads(n.layer()) ? deps.input(n.name()) : null;
            if (in == null) {
                continue;
            }
            int pos = 0;
            for (Seg s : in) {
                int root = deps.find(s.space());
                for (int c = 0; c < deps.size(s.space()); c++) {
                    for (int t = 0; t < s.width(); t++) {
                        reads.add(new Read(n, root, c, pos + c * s.width() + t));
                    }
                }
                pos += deps.size(s.space()) * s.width();
            }
        }
    }

    /** A group's channel goes when every read of it has zero weights or a constant its reader can absorb. */
    private void decide() {
        Map<Integer, boolean[]> candidates = new HashMap<>();
        for (ChannelDependencies.Group g : deps.groups()) {
            if (g.reasons().isEmpty()) {
                boolean[] all = new boolean[g.channels()];
                Arrays.fill(all, true);
                candidates.put(g.root(), all);
            }
        }
        for (Read r : reads) {
            boolean[] removable = candidates.get(r.root());
            if (removable != null && removable[r.channel()] && !absorbed(r)) {
                removable[r.channel()] = false;
            }
        }
        for (ChannelDependencies.Group g : deps.groups()) {
            boolean[] removable = candidates.get(g.root());
            if (removable == null || indices(removable, true).length == 0) {
                continue;
            }
            if (indices(removable, false).length == 0) {
                removable[0] = false; // a layer needs a channel: this one computes what it did
            }
            removed.put(g.root(), removable);
            kept.put(g.name(), indices(removable, false));
        }
    }

    private boolean absorbed(Read r) {
        if (zeroWeights(r)) {
            return true;
        }
        double k = constants.input(r.reader().name())[r.position()];
        return k == 0 || !Double.isNaN(k) && foldable(r.reader());
    }

    private boolean zeroWeights(Read r) {
        String layer = r.reader().name();
        int p = r.position();
        if (r.reader().layer() instanceof SeparableConvolution2D sep) {
            int m = sep.getDepthMultiplier();
            INDArray dw = value(layer, "W");
            INDArray pw = value(layer, "pW");
            for (int j = 0; j < m; j++) {
                if (!zero(dw.get(NDArrayIndex.point(p), NDArrayIndex.point(j)))
                        && !zero(Channels.slice(pw, 1, (long) p * m + j))) {
                    return false;
                }
            }
            return true;
        }
        return zero(Channels.slice(value(layer, "W"), 1, p));
    }

    /** A constant input folds into a dense reader's bias, or an unpadded convolution's. */
    private boolean foldable(Node reader) {
        Layer l = reader.layer();
        if (value(reader.name(), "b") == null || l instanceof SeparableConvolution2D) {
            return false;
        }
        return !(l instanceof ConvolutionLayer conv)
                || !ChannelConstants.padded(conv.getConvolutionMode(), conv.getKernelSize(), conv.getPadding());
    }

    /** Removed channels that still carried a constant add it, through the reader's weights, to the reader's bias. */
    private void fold() {
        for (Read r : reads) {
            boolean[] gone = removed.get(r.root());
            if (gone == null || !gone[r.channel()] || zeroWeights(r)) {
                continue;
            }
            double k = constants.input(r.reader().name())[r.position()];
            if (k == 0) {
                continue;
            }
            INDArray w = value(r.reader().name(), "W");
            INDArray column = Channels.slice(w, 1, r.position());
            INDArray perOutput = column.rank() > 1
                    ? column.sum(java.util.stream.IntStream.range(1, column.rank()).toArray())
                    : column;
            value(r.reader().name(), "b").addi(perOutput.reshape(perOutput.length()).mul(k));
        }
    }

    /** Every member of a group that lost channels loses their slices. */
    private void slice() {
        Map<String, Map<Integer, boolean[]>> keep = new LinkedHashMap<>();
        for (ChannelDependencies.Member m : deps.members()) {
            boolean[] gone = removed.get(deps.find(m.space()));
            PrunableParameter p = table.find(m.layer(), m.key());
            if (gone == null || p == null) {
                continue;
            }
            boolean[] positions = keep.computeIfAbsent(p.name(), k -> new HashMap<>()).computeIfAbsent(m.dim(), d -> {
                boolean[] all = new boolean[(int) p.shape()[d]];
                Arrays.fill(all, true);
                return all;
            });
            for (int c = 0; c < gone.length; c++) {
                if (gone[c]) {
                    Arrays.fill(positions, m.offset() + c * m.width(), m.offset() + (c + 1) * m.width(), false);
                }
            }
        }
        keep.forEach((name, dims) -> {
            INDArray v = values.get(name);
            for (Map.Entry<Integer, boolean[]> d : dims.entrySet()) {
                v = Channels.select(v, d.getKey(), indices(d.getValue(), true));
            }
            values.put(name, v);
        });
    }

    /** Sets the layers' sizes from the sliced parameters and re-sizes the flattening preprocessors. */
    private void resize(Topology topology, BiConsumer<Node, InputPreProcessor> setPreProcessor) {
        for (Node n : topology.nodes()) {
            if (n.kind() == Topology.Kind.LAYER) {
                resize(n.name(), n.layer());
            }
            InputPreProcessor pre = n.preProcessor() != null ? n.preProcessor()
                    : n.vertex() instanceof PreprocessorVertex pv ? pv.getPreProcessor() : null;
            List<Seg> raw = n.kind() == Topology.Kind.LAYER ? deps.rawInput(n.name())
                    : n.inputs().isEmpty() ? null : deps.output(n.inputs().get(0));
            if (pre instanceof CnnToFeedForwardPreProcessor flat && raw != null) {
                setPreProcessor.accept(n, new CnnToFeedForwardPreProcessor(flat.getInputHeight(), flat.getInputWidth(),
                        keptPositions(raw), flat.getFormat()));
            } else if (pre instanceof FeedForwardToCnnPreProcessor unflat && raw != null) {
                long hw = unflat.getInputHeight() * unflat.getInputWidth();
                setPreProcessor.accept(n, new FeedForwardToCnnPreProcessor(unflat.getInputHeight(),
                        unflat.getInputWidth(), keptPositions(raw) / hw));
            }
        }
    }

    private void resize(String layer, Layer l) {
        if (l instanceof DepthwiseConvolution2D dw) {
            long nIn = value(layer, "W").size(0);
            dw.setNIn(nIn);
            dw.setNOut(nIn * dw.getDepthMultiplier());
        } else if (l instanceof SeparableConvolution2D sep) {
            sep.setNIn(value(layer, "W").size(0));
            sep.setNOut(value(layer, "pW").size(0));
        } else if (l instanceof BatchNormalization bn) {
            long n = value(layer, "mean").length();
            bn.setNIn(n);
            bn.setNOut(n);
        } else if (l instanceof FeedForwardLayer ff && value(layer, "W") != null) {
            INDArray w = value(layer, "W");
            ff.setNIn(w.size(1));
            ff.setNOut(w.size(0));
        } else if (l instanceof FeedForwardLayer ff && deps.input(layer) != null) { // a dropout layer, say
            long n = keptPositions(deps.input(layer));
            ff.setNIn(n);
            ff.setNOut(n);
        }
    }

    private long keptPositions(List<Seg> layout) {
        long n = 0;
        for (Seg s : layout) {
            boolean[] gone = removed.get(deps.find(s.space()));
            int size = deps.size(s.space());
            n += (long) s.width() * (gone == null ? size : indices(gone, false).length);
        }
        return n;
    }

    private void fill(ParameterTable smaller) {
        for (PrunableParameter p : smaller.parameters()) {
            smaller.view(p).assign(values.get(p.name()).reshape(p.shape()));
        }
    }

    private static boolean zero(INDArray a) {
        return a.amaxNumber().doubleValue() == 0;
    }

    private static int[] indices(boolean[] b, boolean value) {
        return java.util.stream.IntStream.range(0, b.length).filter(i -> b[i] == value).toArray();
    }
}
