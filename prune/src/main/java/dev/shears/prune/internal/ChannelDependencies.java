package dev.shears.prune.internal;

import dev.shears.prune.ChannelGroup.Role;
import dev.shears.prune.internal.Topology.Node;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.HashMap;
import java.util.Set;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.graph.ShiftVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Convolution2D;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.conf.layers.convolutional.Cropping2D;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;

/**
 * Which parameter slices carry the same channels, worked out from a model's structure (Torch-Pruning's
 * dependency graph, on DL4J configurations).
 *
 * <p>Every convolution, dense layer and separable convolution opens a <em>space</em> of channels, its outputs. The
 * space's channels travel through layers that keep them apart (batch normalisation, activations, pooling, dropout,
 * padding, global pooling, depthwise convolutions, flattening into a dense layer), are concatenated with others
 * (a merge), and end as the inputs of the next convolution or dense layer. An element-wise vertex (a residual
 * addition) ties the channels of all its inputs index by index, so their spaces become one <em>group</em>. Every
 * parameter slice a space's channel touches is a {@link Member}.
 *
 * <p>The tensors flowing between nodes are described by <em>layouts</em>: a list of {@link Seg segments}, one per
 * space in the order its channels appear, each channel spanning {@code width} consecutive positions (1 for a
 * convolution's channels, {@code h·w} after flattening, the multiplier after a depthwise convolution). A null
 * layout is a tensor whose channels no space owns (the network's input, or what follows a layer this analysis
 * does not follow); a space that reaches such a place, or a network output, is <em>pinned</em> with the reason.
 */
public final class ChannelDependencies {

    /**
     * Channel {@code c} of the space is the slice {@code [offset + c·width, offset + (c+1)·width)} along {@code dim}
     * of the layer's parameter {@code key}, in PyTorch layout.
     *
     * @param layer the layer's name
     * @param key DL4J's parameter key in the layer ({@code W}, {@code b}, {@code pW}, {@code gamma}, ...)
     * @param dim the dimension, in PyTorch layout
     * @param offset the first index of channel 0
     * @param width indices per channel
     * @param role what the slice is
     * @param space the space whose channels these are (not yet resolved to its group)
     */
    public record Member(String layer, String key, int dim, int offset, int width, Role role, int space) {
    }

    /**
     * A space's channels within a tensor.
     *
     * @param space the space
     * @param width positions per channel
     */
    public record Seg(int space, int width) {
    }

    /**
     * Spaces tied together.
     *
     * @param root the id of its first space, which {@link #find} returns for all of them
     * @param name the layer that produces the first space
     * @param channels channels of every space in it
     * @param members every member slice, in the model's order
     * @param producers the layers whose outputs are its spaces, in the model's order
     * @param reasons why it must stay whole; empty when it can be pruned
     */
    public record Group(int root, String name, int channels, List<Member> members, List<String> producers,
            List<String> reasons) {
    }

    private static final class Space {
        final int size;
        final String owner;
        int parent;
        final Set<String> reasons = new LinkedHashSet<>();

        Space(int id, int size, String owner) {
            this.parent = id;
            this.size = size;
            this.owner = owner;
        }
    }

    private final Topology topology;
    private final List<Space> spaces = new ArrayList<>();
    private final List<Member> members = new ArrayList<>();
    private final Map<String, List<Seg>> outputs = new HashMap<>();
    private final Map<String, List<Seg>> inputs = new HashMap<>();
    private final Map<String, List<Seg>> rawInputs = new HashMap<>();

    private ChannelDependencies(Topology topology) {
        this.topology = topology;
    }

    /** The analysis of {@code topology}'s structure. */
    public static ChannelDependencies of(Topology topology) {
        ChannelDependencies d = new ChannelDependencies(topology);
        for (Node n : topology.nodes()) {
            switch (n.kind()) {
                case INPUT -> d.outputs.put(n.name(), null);
                case LAYER -> d.layer(n);
                case VERTEX -> d.vertex(n);
            }
        }
        for (String out : topology.outputs()) {
            d.pin(d.outputs.get(out), out + " is a network output");
        }
        return d;
    }

    public Topology topology() {
        return topology;
    }

    /** The layout of a node's output; null when no space owns its channels. */
    public List<Seg> output(String node) {
        return outputs.get(node);
    }

    /** The layout a layer reads, after its input preprocessor. */
    public List<Seg> input(String layer) {
        return inputs.get(layer);
    }

    /** The layout a layer's input preprocessor receives (the same as {@link #input} without one). */
    public List<Seg> rawInput(String layer) {
        return rawInputs.get(layer);
    }

    /** The group's root of {@code space}. */
    public int find(int space) {
        int s = space;
        while (spaces.get(s).parent != s) {
            s = spaces.get(s).parent;
        }
        return s;
    }

    /** Channels in {@code space}. */
    public int size(int space) {
        return spaces.get(space).size;
    }

    /** Positions a layout spans: channels times widths. */
    public int positions(List<Seg> layout) {
        int n = 0;
        for (Seg s : layout) {
            n += size(s.space()) * s.width();
        }
        return n;
    }

    /** Every member of every space, in the model's order. */
    public List<Member> members() {
        return List.copyOf(members);
    }

    /** The groups, in the model's order of their first producer. */
    public List<Group> groups() {
        List<Group> groups = new ArrayList<>();
        for (int id = 0; id < spaces.size(); id++) {
            if (find(id) != id) {
                continue;
            }
            int root = id;
            List<Member> own = members.stream().filter(m -> find(m.space()) == root).toList();
            List<String> producers = new ArrayList<>();
            for (int s = 0; s < spaces.size(); s++) {
                if (find(s) == root) {
                    producers.add(spaces.get(s).owner);
                }
            }
            Space space = spaces.get(root);
            groups.add(
                    new Group(root, space.owner, space.size, own, List.copyOf(producers), List.copyOf(space.reasons)));
        }
        return groups;
    }

    // ---- the walk ----------------------------------------------------------------------------------

    private void layer(Node n) {
        String name = n.name();
        List<Seg> raw = outputs.get(n.inputs().get(0));
        rawInputs.put(name, raw);
        List<Seg> in = preprocess(n.preProcessor(), raw, name);
        inputs.put(name, in);
        Layer l = n.layer();
        List<Seg> out;
        if (l.getClass() == ConvolutionLayer.class || l.getClass() == Convolution2D.class) {
            ConvolutionLayer conv = (ConvolutionLayer) l;
            if (conv.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
                out = opaque(in, name, "is a convolution in NHWC format");
            } else {
                consume(name, in, "W", 1, 1);
                out = produce(name, conv.getNOut(), "W");
            }
        } else if (l.getClass() == DenseLayer.class) {
            consume(name, in, "W", 1, 1);
            out = produce(name, ((DenseLayer) l).getNOut(), "W");
        } else if (l.getClass() == OutputLayer.class) {
            consume(name, in, "W", 1, 1);
            out = null; // the classifier's outputs are never pruned
        } else if (l.getClass() == DepthwiseConvolution2D.class) {
            DepthwiseConvolution2D dw = (DepthwiseConvolution2D) l;
            out = dw.getCnn2dDataFormat() != CNN2DFormat.NCHW
                    ? opaque(in, name, "is a depthwise convolution in NHWC format")
                    : depthwise(name, in, dw.getDepthMultiplier());
        } else if (l.getClass() == SeparableConvolution2D.class) {
            SeparableConvolution2D sep = (SeparableConvolution2D) l;
            if (sep.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
                out = opaque(in, name, "is a separable convolution in NHWC format");
            } else {
                int m = sep.getDepthMultiplier();
                consume(name, in, "W", 0, 1);
                consume(name, in, "pW", 1, m);
                out = produce(name, sep.getNOut(), "pW");
            }
        } else if (l.getClass() == BatchNormalization.class) {
            out = batchNorm(name, in, (BatchNormalization) l);
        } else if (passesChannelsThrough(l)) {
            out = in;
        } else {
            out = opaque(in, name, "(" + l.getClass().getSimpleName() + ") mixes or reshapes channels in a way"
                    + " dependency groups do not follow");
        }
        outputs.put(name, out);
    }

    private void vertex(Node n) {
        String name = n.name();
        List<List<Seg>> ins = new ArrayList<>();
        for (String i : n.inputs()) {
            ins.add(outputs.get(i));
        }
        GraphVertex v = n.vertex();
        String what = name + " (" + v.getClass().getSimpleName() + ")";
        List<Seg> out;
        if (v instanceof ElementWiseVertex) {
            if (ins.contains(null)) {
                out = opaqueAll(ins, what + " adds it to a tensor whose channels no layer of the model produces");
            } else if (!aligned(ins)) {
                out = opaqueAll(ins, what + " combines tensors whose channels do not line up one to one");
            } else {
                for (int s = 0; s < ins.get(0).size(); s++) {
                    for (int j = 1; j < ins.size(); j++) {
                        union(ins.get(0).get(s).space(), ins.get(j).get(s).space());
                    }
                }
                out = ins.get(0);
            }
        } else if (v instanceof MergeVertex merge) {
            if (merge.getMergeAxis() != MergeVertex.DEFAULT_MERGE_DIM || ins.contains(null)) {
                out = opaqueAll(ins, what + " concatenates it along an axis other than the channels, or with"
                        + " a tensor whose channels no layer produces");
            } else {
                out = new ArrayList<>();
                ins.forEach(out::addAll);
            }
        } else if (v instanceof ScaleVertex || v instanceof ShiftVertex) {
            out = ins.get(0);
        } else if (v instanceof PreprocessorVertex pv) {
            out = preprocess(pv.getPreProcessor(), ins.get(0), name);
        } else {
            out = opaqueAll(ins, what + " cannot be sliced by channel");
        }
        outputs.put(name, out);
    }

    private static boolean passesChannelsThrough(Layer l) {
        if (l instanceof ActivationLayer || l instanceof DropoutLayer || l instanceof GlobalPoolingLayer
                || l instanceof Cropping2D) {
            return true;
        }
        if (l.getClass() == SubsamplingLayer.class) {
            return ((SubsamplingLayer) l).getCnn2dDataFormat() == CNN2DFormat.NCHW;
        }
        if (l instanceof ZeroPaddingLayer z) {
            return z.getDataFormat() == CNN2DFormat.NCHW;
        }
        if (l instanceof Upsampling2D u) {
            return u.getFormat() == CNN2DFormat.NCHW;
        }
        return false;
    }

    private List<Seg> preprocess(InputPreProcessor pre, List<Seg> raw, String name) {
        if (pre == null || raw == null) {
            return raw;
        }
        if (pre instanceof CnnToFeedForwardPreProcessor flat && flat.getFormat() == CNN2DFormat.NCHW
                && flat.getNumChannels() == positions(raw)) {
            // DL4J flattens [c, h, w] channel-major: channel c is features c·h·w ... (c+1)·h·w - 1
            int hw = Math.toIntExact(flat.getInputHeight() * flat.getInputWidth());
            return raw.stream().map(s -> new Seg(s.space(), s.width() * hw)).toList();
        }
        if (pre instanceof FeedForwardToCnnPreProcessor unflat) {
            int hw = Math.toIntExact(unflat.getInputHeight() * unflat.getInputWidth());
            if (raw.stream().allMatch(s -> s.width() % hw == 0)) {
                return raw.stream().map(s -> new Seg(s.space(), s.width() / hw)).toList();
            }
        }
        return opaque(raw, name, "has an input preprocessor (" + pre.getClass().getSimpleName()
                + ") that rearranges channels in a way dependency groups do not follow");
    }

    private List<Seg> produce(String layer, long n, String weight) {
        int id = spaces.size();
        spaces.add(new Space(id, Math.toIntExact(n), layer));
        members.add(new Member(layer, weight, 0, 0, 1, Role.OUTPUT, id));
        members.add(new Member(layer, "b", 0, 0, 1, Role.BIAS, id));
        return List.of(new Seg(id, 1));
    }

    /** A consumer's input slices: channel positions times {@code factor} along {@code dim} of {@code key}. */
    private void consume(String layer, List<Seg> in, String key, int dim, int factor) {
        if (in == null) {
            return;
        }
        int pos = 0;
        for (Seg s : in) {
            members.add(new Member(layer, key, dim, pos * factor, s.width() * factor, Role.INPUT, s.space()));
            pos += size(s.space()) * s.width();
        }
    }

    private List<Seg> depthwise(String layer, List<Seg> in, int multiplier) {
        if (in == null) {
            return null;
        }
        List<Seg> out = new ArrayList<>();
        int pos = 0;
        for (Seg s : in) {
            members.add(new Member(layer, "W", 0, pos, s.width(), Role.DEPTHWISE, s.space()));
            members.add(new Member(layer, "b", 0, pos * multiplier, s.width() * multiplier, Role.BIAS, s.space()));
            out.add(new Seg(s.space(), s.width() * multiplier));
            pos += size(s.space()) * s.width();
        }
        return out;
    }

    private List<Seg> batchNorm(String layer, List<Seg> in, BatchNormalization bn) {
        if (in == null) {
            return null;
        }
        if (bn.getCnn2DFormat() != CNN2DFormat.NCHW) {
            return opaque(in, layer, "is a batch normalisation in NHWC format");
        }
        int pos = 0;
        for (Seg s : in) {
            members.add(new Member(layer, "gamma", 0, pos, s.width(), Role.NORM_SCALE, s.space()));
            members.add(new Member(layer, "beta", 0, pos, s.width(), Role.NORM_SHIFT, s.space()));
            for (String key : List.of("mean", "var", "log10stdev")) {
                members.add(new Member(layer, key, 0, pos, s.width(), Role.NORM_STATISTIC, s.space()));
            }
            pos += size(s.space()) * s.width();
        }
        return in;
    }

    private boolean aligned(List<List<Seg>> ins) {
        List<Seg> first = ins.get(0);
        for (List<Seg> other : ins) {
            if (other.size() != first.size()) {
                return false;
            }
            for (int s = 0; s < first.size(); s++) {
                Seg a = first.get(s);
                Seg b = other.get(s);
                if (a.width() != b.width() || size(a.space()) != size(b.space())) {
                    return false;
                }
            }
        }
        return true;
    }

    private void union(int a, int b) {
        int ra = find(a);
        int rb = find(b);
        if (ra == rb) {
            return;
        }
        int root = Math.min(ra, rb);
        int child = Math.max(ra, rb);
        spaces.get(child).parent = root;
        spaces.get(root).reasons.addAll(spaces.get(child).reasons);
    }

    private void pin(List<Seg> layout, String reason) {
        if (layout != null) {
            for (Seg s : layout) {
                spaces.get(find(s.space())).reasons.add(reason);
            }
        }
    }

    /** Pins the spaces of {@code in}: {@code layer} is followed no further, and its output has no spaces. */
    private List<Seg> opaque(List<Seg> in, String layer, String why) {
        pin(in, layer + " " + why);
        return null;
    }

    private List<Seg> opaqueAll(List<List<Seg>> ins, String reason) {
        ins.forEach(i -> pin(i, reason));
        return null;
    }
}
