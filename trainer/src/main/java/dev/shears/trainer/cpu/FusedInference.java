package dev.shears.trainer.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_FROM;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_0;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC_1;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_TO;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.binary;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.eltwise_forward;
import org.bytedeco.dnnl.engine;
import org.bytedeco.dnnl.global.dnnl.algorithm;
import org.bytedeco.dnnl.global.dnnl.prop_kind;
import org.bytedeco.dnnl.inner_product_forward;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.pooling_forward;
import org.bytedeco.dnnl.post_ops;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.primitive_attr;
import org.bytedeco.dnnl.reorder;
import org.bytedeco.dnnl.softmax_forward;
import org.bytedeco.dnnl.stream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.conf.preprocessor.FeedForwardToCnnPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationLReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSoftmax;
import org.nd4j.linalg.activations.impl.ActivationTanH;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A trained network compiled for inference on oneDNN: batch normalisation folded into the convolution before it,
 * activations and residual additions fused into the convolution that produces them, weights reordered once into
 * oneDNN's layout, and every activation in a buffer of its own made once per input shape.
 *
 * <p>DL4J runs each layer as its own call: every call allocates its output and the op's shape and context buffers,
 * runs batch normalisation and the activation as separate passes over memory, and reorders the weights. For a small
 * image that bookkeeping, not the arithmetic, is most of the time, so a network with a quarter of the FLOPs is barely
 * faster. Here a forward pass is one reorder of the input, one oneDNN primitive per fused step on preallocated
 * buffers (activations channels-last, a buffer reused once the values in it are read no more), and one reorder into
 * the returned array: what a compacted network saves in arithmetic shows in its latency.
 *
 * <p>Covers the layers Shears' built-in architectures and LeNet-class networks use, in a {@link MultiLayerNetwork} or a
 * single-input, single-output {@link ComputationGraph}: {@link ConvolutionLayer} and {@link DepthwiseConvolution2D}
 * (NCHW, any kernel, stride, padding and dilation, every {@link ConvolutionMode}), {@link BatchNormalization} (folded
 * into the convolution it follows, else a per-channel scale and shift), {@link ActivationLayer} and layer activations
 * (identity, ReLU, leaky ReLU, ReLU6, tanh, sigmoid; softmax after a dense layer), {@link SubsamplingLayer} (max,
 * average), {@link GlobalPoolingLayer} (max, average), {@link DenseLayer} and {@link OutputLayer}, an
 * {@link ElementWiseVertex} that adds, dropout (a no-op in inference), and DL4J's flattening and un-flattening
 * pre-processors. {@link #compile} refuses anything else with the layer's name and kind, before any work.
 *
 * <p>The outputs are the network's up to float rounding (a folded batch norm and another kernel sum in another
 * order; within 1e-5 of DL4J's on Shears' architectures). The parameters are copied at compilation: compile again
 * after changing them. Not thread-safe (like a DL4J network, one instance serves one thread); the CPU backend only,
 * where oneDNN's presets load ({@link #available()}).
 */
public final class FusedInference implements AutoCloseable {
    /** Input shapes whose buffers and primitives are kept. */
    static final int PLANS = 4;

    private final List<Op> program;
    private final int output;
    private final int values;
    /** [channels, height, width] of a flat input the network un-flattens first, or null. */
    private final long[] unflatten;
    private final String summary;
    private final stream stream = new stream(OneDnn.cpu());
    private boolean closed;
    private final Map<List<Long>, Plan> plans = OneDnn.recentPlans(PLANS, Plan::close);

    private FusedInference(Program p) {
        this.program = List.copyOf(p.ops);
        this.output = p.output;
        this.values = p.values;
        this.unflatten = p.unflatten;
        this.summary = p.summary();
    }

    /** Whether oneDNN's own API loads here, which {@link #compile} needs. */
    public static boolean available() {
        return OneDnn.available();
    }

    /**
     * Compiles a {@link MultiLayerNetwork} or a {@link ComputationGraph}, as {@link #compile(MultiLayerNetwork)} and
     * {@link #compile(ComputationGraph)}.
     *
     * @throws IllegalArgumentException for another kind of model, or a layer with no fused form
     */
    public static FusedInference compile(org.deeplearning4j.nn.api.Model model) {
        if (model instanceof MultiLayerNetwork net) {
            return compile(net);
        }
        if (model instanceof ComputationGraph graph) {
            return compile(graph);
        }
        throw new IllegalArgumentException("a " + model.getClass().getSimpleName() + " has no fused form: only a"
                + " MultiLayerNetwork or a ComputationGraph");
    }

    /**
     * Compiles {@code net}'s current parameters.
     *
     * @throws IllegalArgumentException naming the first layer or pre-processor with no fused form
     * @throws IllegalStateException when oneDNN's API does not load here ({@link #available()})
     */
    public static FusedInference compile(MultiLayerNetwork net) {
        Program p = new Program();
        int x = 0;
        for (int i = 0; i < net.getnLayers(); i++) {
            Layer conf = net.getLayer(i).conf().getLayer();
            String name = conf.getLayerName() != null ? conf.getLayerName() : "layer " + i;
            x = p.preprocess(name, net.getLayerWiseConfigurations().getInputPreProcess(i), x);
            x = p.layer(name, conf, net.getLayer(i).paramTable(), x);
        }
        p.output = x;
        return new FusedInference(p.fuse());
    }

    /**
     * Compiles {@code graph}'s current parameters; the graph has one input and one output.
     *
     * @throws IllegalArgumentException naming the first vertex with no fused form
     * @throws IllegalStateException when oneDNN's API does not load here ({@link #available()})
     */
    public static FusedInference compile(ComputationGraph graph) {
        ComputationGraphConfiguration conf = graph.getConfiguration();
        if (conf.getNetworkInputs().size() != 1 || conf.getNetworkOutputs().size() != 1) {
            throw new IllegalArgumentException("a graph with inputs " + conf.getNetworkInputs() + " and outputs "
                    + conf.getNetworkOutputs() + " has no fused form: it needs exactly one of each");
        }
        Program p = new Program();
        Map<String, Integer> valueOf = new HashMap<>();
        org.deeplearning4j.nn.graph.vertex.GraphVertex[] vertices = graph.getVertices();
        for (int index : graph.topologicalSortOrder()) {
            org.deeplearning4j.nn.graph.vertex.GraphVertex v = vertices[index];
            String name = v.getVertexName();
            if (v.isInputVertex()) {
                valueOf.put(name, 0);
                continue;
            }
            VertexIndices[] from = v.getInputVertices();
            int[] in = new int[from.length];
            for (int i = 0; i < from.length; i++) {
                in[i] = valueOf.get(vertices[from[i].getVertexIndex()].getVertexName());
            }
            GraphVertex vc = conf.getVertices().get(name);
            int out;
            if (vc instanceof LayerVertex lv && in.length == 1) {
                int x = p.preprocess(name, lv.getPreProcessor(), in[0]);
                out = p.layer(name, lv.getLayerConf().getLayer(), graph.getLayer(name).paramTable(), x);
            } else if (vc instanceof ElementWiseVertex ew && ew.getOp() == ElementWiseVertex.Op.Add
                    && in.length >= 2) {
                out = in[0];
                for (int i = 1; i < in.length; i++) {
                    out = p.emit(new Add(name, out, in[i], p.next(), null));
                }
            } else {
                throw p.unsupported(name, vc.getClass().getSimpleName()
                        + (vc instanceof ElementWiseVertex ew ? " " + ew.getOp() : ""));
            }
            valueOf.put(name, out);
        }
        p.output = valueOf.get(conf.getNetworkOutputs().get(0));
        return new FusedInference(p.fuse());
    }

    /**
     * The network's output for {@code input} (float, NCHW images or, for a network that starts flat or un-flattens,
     * rows of features), as a new array. The first call for an input shape builds that shape's primitives.
     *
     * @throws IllegalArgumentException when the network cannot read inputs of this shape or type
     * @throws NoPrimitive when oneDNN cannot run one of the network's steps at this shape
     */
    public INDArray output(INDArray input) {
        if (closed) {
            throw new IllegalStateException("this fused network is closed: compile the model again");
        }
        if (input.dataType() != DataType.FLOAT) {
            throw new IllegalArgumentException("input of type " + input.dataType() + ": the fused network runs on"
                    + " FLOAT; cast it with input.castTo(DataType.FLOAT)");
        }
        INDArray x = OneDnn.contiguous(input);
        Plan plan = plan(x.shape());
        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, plan.outputShape);
        plan.run(x, out, stream);
        return out;
    }

    /**
     * Releases the native memory of every input shape's primitives and buffers now, rather than when the garbage
     * collector finds them (oneDNN allocates the buffers, so the collector does not see their size). Idempotent;
     * {@link #output} refuses to run afterwards.
     */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            plans.values().forEach(Plan::close);
            plans.clear();
            stream.close();
        }
    }

    /** How many activation buffers the primitives for inputs of {@code shape} use (made on first call). */
    int buffers(long... shape) {
        return plan(shape).allocated;
    }

    /**
     * The primitives and buffers for inputs of {@code shape}, made on first use.
     *
     * @throws IllegalArgumentException when the network cannot read inputs of that shape
     * @throws NoPrimitive when oneDNN has no primitive for one of its steps at that shape
     */
    private Plan plan(long[] shape) {
        List<Long> key = key(shape);
        Plan plan = plans.get(key);
        if (plan == null) {
            try {
                plan = new Plan(shape);
            } catch (IllegalArgumentException e) {
                throw e;
            } catch (RuntimeException e) {
                throw new NoPrimitive("oneDNN has no primitive for a step of this network at input shape "
                        + Arrays.toString(shape) + " (" + e.getMessage() + "); run it with DL4J's own output()", e);
            }
            plans.put(key, plan);
        }
        return plan;
    }

    /** oneDNN refused to make a primitive the network needs (a shape or a combination its kernels do not cover). */
    public static final class NoPrimitive extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        NoPrimitive(String message, Throwable cause) {
            super(message, cause);
        }
    }

    /**
     * What compilation made of the network, e.g. {@code "24 steps from 63 layers (21 convolutions; 21 batch norms
     * folded, 9 residual adds and 19 activations fused)"}.
     */
    public String summary() {
        return summary;
    }

    private static List<Long> key(long[] shape) {
        List<Long> key = new ArrayList<>(shape.length);
        for (long d : shape) {
            key.add(d);
        }
        return key;
    }

    // ---------------------------------------------------------------------------------------------------------------
    // The program: operations on numbered values (0: the input), in the order they run.

    /** A convolution's or pooling's window. */
    record Window(int[] kernel, int[] stride, int[] pad, int[] dilation, ConvolutionMode mode) {
    }

    /** An element-wise function as oneDNN's eltwise algorithm and its two constants. */
    record Activation(algorithm algorithm, float alpha, float beta, String label) {
    }

    /** One step of the program. */
    sealed interface Op permits Conv, Scale, Act, Add, Pool, Dense, Softmax, Flatten {
        String name();

        int output();

        /** The values it reads. */
        int[] inputs();
    }

    /**
     * A convolution; {@code weights} in [groups, out/groups, in/groups, kh, kw] order (out channel major), {@code bias}
     * may be null; {@code sumInto} is the value whose buffer it adds its result to (a fused residual add, -1 for none);
     * {@code act} applies last (null for none).
     */
    record Conv(String name, int input, int output, float[] weights, long[] dims, int groups, float[] bias,
            Window window, int sumInto, Activation act) implements Op {
        @Override
        public int[] inputs() {
            return sumInto < 0 ? new int[]{input} : new int[]{input, sumInto};
        }

        /** This convolution writing {@code output}, adding into {@code sumInto}'s buffer (-1: none), then {@code act}. */
        Conv fused(int output, int sumInto, Activation act) {
            return new Conv(name, input, output, weights, dims, groups, bias, window, sumInto, act);
        }
    }

    /** A per-channel scale and shift (batch normalisation in inference). */
    record Scale(String name, int input, int output, float[] scale, float[] shift) implements Op {
        @Override
        public int[] inputs() {
            return new int[]{input};
        }
    }

    /** An element-wise activation. */
    record Act(String name, int input, int output, Activation act) implements Op {
        @Override
        public int[] inputs() {
            return new int[]{input};
        }
    }

    /** The sum of two values of one shape, then {@code act} (null for none). */
    record Add(String name, int a, int b, int output, Activation act) implements Op {
        @Override
        public int[] inputs() {
            return new int[]{a, b};
        }
    }

    /** Max or average pooling; a null window pools each channel's whole plane (into [n, c] when {@code collapse}). */
    record Pool(String name, int input, int output, boolean max, boolean includePad, Window window, boolean collapse)
            implements
                Op {
        @Override
        public int[] inputs() {
            return new int[]{input};
        }
    }

    /** A dense layer; {@code weights} as DL4J keeps them, [in, out] row-major; {@code bias} may be null. */
    record Dense(String name, int input, int output, float[] weights, long in, long out, float[] bias, Activation act)
            implements
                Op {
        @Override
        public int[] inputs() {
            return new int[]{input};
        }
    }

    /** Softmax over each row. */
    record Softmax(String name, int input, int output) implements Op {
        @Override
        public int[] inputs() {
            return new int[]{input};
        }
    }

    /** [n, c, h, w] to [n, c*h*w], channel-major as DL4J flattens. */
    record Flatten(String name, int input, int output) implements Op {
        @Override
        public int[] inputs() {
            return new int[]{input};
        }
    }

    /** Builds the program from DL4J's layers, then fuses it. */
    static final class Program {
        final List<Op> ops = new ArrayList<>();
        int values = 1;
        int output;
        long[] unflatten;
        int layers;
        private int foldedNorms;
        private int fusedActs;
        private int fusedAdds;

        int next() {
            return values++;
        }

        IllegalArgumentException unsupported(String name, String kind) {
            return new IllegalArgumentException("'" + name + "' (" + kind + ") has no fused form; FusedInference runs"
                    + " convolutions, depthwise convolutions, batch norms, activations, pooling, dense and output"
                    + " layers and additions: run this network with DL4J's own output() instead");
        }

        int preprocess(String name, InputPreProcessor pre, int x) {
            if (pre == null) {
                return x;
            }
            if (pre instanceof CnnToFeedForwardPreProcessor c && c.getFormat() == CNN2DFormat.NCHW) {
                return emit(new Flatten(name + " (flatten)", x, next()));
            }
            if (pre instanceof FeedForwardToCnnPreProcessor f && x == 0 && unflatten == null) {
                unflatten = new long[]{f.getNumChannels(), f.getInputHeight(), f.getInputWidth()};
                return x;
            }
            throw unsupported(name, "pre-processor " + pre.getClass().getSimpleName());
        }

        int emit(Op op) {
            ops.add(op);
            return op.output();
        }

        int layer(String name, Layer conf, Map<String, INDArray> params, int x) {
            layers++;
            if (conf instanceof DropoutLayer) {
                return x;
            }
            if (conf.getClass() == ConvolutionLayer.class || conf.getClass() == DepthwiseConvolution2D.class) {
                ConvolutionLayer c = (ConvolutionLayer) conf;
                if (c.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
                    throw unsupported(name, "convolution in " + c.getCnn2dDataFormat());
                }
                Window w = new Window(c.getKernelSize(), c.getStride(), c.getPadding(), c.getDilation(),
                        c.getConvolutionMode());
                INDArray weights = params.get("W");
                float[] bias = c.hasBias() ? floats(params.get("b")) : null;
                int out;
                if (c instanceof DepthwiseConvolution2D) {
                    // DL4J: [kh, kw, in, multiplier]; oneDNN: [in (groups), multiplier, 1, kh, kw]
                    long[] s = weights.shape();
                    INDArray g = weights.permute(2, 3, 0, 1).dup('c');
                    out = emit(new Conv(name, x, next(), floats(g), new long[]{s[2], s[3], 1, s[0], s[1]}, (int) s[2],
                            bias, w, -1, null));
                } else {
                    out = emit(new Conv(name, x, next(), floats(weights), weights.shape(), 1, bias, w, -1, null));
                }
                return activation(name, c.getActivationFn(), out, false);
            }
            if (conf instanceof BatchNormalization bn) {
                if (bn.getCnn2DFormat() != CNN2DFormat.NCHW) {
                    throw unsupported(name, "batch norm in " + bn.getCnn2DFormat());
                }
                float[] mean = floats(params.get(BatchNormalizationParamInitializer.GLOBAL_MEAN));
                float[] scale = new float[mean.length];
                float[] shift = new float[mean.length];
                float[] gamma = bn.isLockGammaBeta() ? null
                        : floats(params.get(BatchNormalizationParamInitializer.GAMMA));
                float[] beta = bn.isLockGammaBeta() ? null
                        : floats(params.get(BatchNormalizationParamInitializer.BETA));
                float[] spread = floats(params.get(bn.isUseLogStd() ? BatchNormalizationParamInitializer.GLOBAL_LOG_STD
                        : BatchNormalizationParamInitializer.GLOBAL_VAR));
                for (int i = 0; i < mean.length; i++) {
                    double std = bn.isUseLogStd() ? Math.pow(10, spread[i]) : Math.sqrt(spread[i] + bn.getEps());
                    double s = (gamma == null ? bn.getGamma() : gamma[i]) / std;
                    scale[i] = (float) s;
                    shift[i] = (float) ((beta == null ? bn.getBeta() : beta[i]) - mean[i] * s);
                }
                // DL4J's batch norm layer never applies the activation its configuration carries (sigmoid by default)
                return emit(new Scale(name, x, next(), scale, shift));
            }
            if (conf instanceof ActivationLayer a) {
                return activation(name, a.getActivationFn(), x, false);
            }
            if (conf instanceof SubsamplingLayer s && s.getClass() == SubsamplingLayer.class) {
                boolean max = s.getPoolingType() == PoolingType.MAX;
                if (!max && s.getPoolingType() != PoolingType.AVG
                        || Arrays.stream(s.getDilation()).anyMatch(d -> d != 1)
                        || s.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
                    throw unsupported(name, s.getPoolingType() + " pooling, dilation "
                            + Arrays.toString(s.getDilation()) + ", " + s.getCnn2dDataFormat());
                }
                return emit(new Pool(name, x, next(), max, s.isAvgPoolIncludePadInDivisor(), new Window(
                        s.getKernelSize(), s.getStride(), s.getPadding(), s.getDilation(), s.getConvolutionMode()),
                        false));
            }
            if (conf instanceof GlobalPoolingLayer g) {
                boolean max = g.getPoolingType() == PoolingType.MAX;
                if (!max && g.getPoolingType() != PoolingType.AVG) {
                    throw unsupported(name, g.getPoolingType() + " global pooling");
                }
                return emit(new Pool(name, x, next(), max, false, null, g.isCollapseDimensions()));
            }
            if (conf.getClass() == DenseLayer.class || conf.getClass() == OutputLayer.class) {
                org.deeplearning4j.nn.conf.layers.FeedForwardLayer d = (org.deeplearning4j.nn.conf.layers.FeedForwardLayer) conf;
                INDArray w = params.get("W");
                INDArray b = params.get("b");
                int out = emit(
                        new Dense(name, x, next(), floats(w), d.getNIn(), d.getNOut(), b == null ? null : floats(b),
                                null));
                return activation(name, d.getActivationFn(), out, true);
            }
            throw unsupported(name, conf.getClass().getSimpleName());
        }

        private int activation(String name, IActivation fn, int x, boolean softmaxAllowed) {
            if (fn == null || fn instanceof ActivationIdentity) {
                return x;
            }
            if (fn instanceof ActivationSoftmax && softmaxAllowed) {
                return emit(new Softmax(name + " (softmax)", x, next()));
            }
            Activation a;
            if (fn instanceof ActivationReLU r && r.getMax() == null && r.getThreshold() == null) {
                double slope = r.getNegativeSlope() == null ? 0 : r.getNegativeSlope();
                a = new Activation(algorithm.eltwise_relu, (float) slope, 0, "relu");
            } else if (fn instanceof ActivationLReLU l) {
                a = new Activation(algorithm.eltwise_relu, (float) l.getAlpha(), 0, "leakyrelu");
            } else if (fn instanceof ActivationReLU6) {
                a = new Activation(algorithm.eltwise_clip, 0, 6, "relu6");
            } else if (fn instanceof ActivationTanH) {
                a = new Activation(algorithm.eltwise_tanh, 0, 0, "tanh");
            } else if (fn instanceof ActivationSigmoid) {
                a = new Activation(algorithm.eltwise_logistic, 0, 0, "sigmoid");
            } else {
                throw unsupported(name, "activation " + fn);
            }
            return emit(new Act(name + " (" + a.label() + ")", x, next(), a));
        }

        /** How many steps read each value (the output counts as one more reader). */
        private int[] readers() {
            int[] readers = new int[values];
            for (Op op : ops) {
                for (int v : op.inputs()) {
                    readers[v]++;
                }
            }
            readers[output]++;
            return readers;
        }

        private int producer(int value) {
            for (int i = 0; i < ops.size(); i++) {
                if (ops.get(i).output() == value) {
                    return i;
                }
            }
            return -1;
        }

        /**
         * Folds each batch norm into the convolution before it, each residual add into the convolution that computes
         * one of its terms (that convolution then adds into the other term's buffer), and each activation into the
         * step before it, wherever the intermediate value has no other reader.
         */
        Program fuse() {
            for (int i = 0; i < ops.size(); i++) {
                int p = ops.get(i) instanceof Scale s ? producer(s.input()) : -1;
                if (p >= 0 && readers()[ops.get(i).inputs()[0]] == 1 && ops.get(p) instanceof Conv c
                        && c.act() == null && c.sumInto() < 0) {
                    ops.set(p, fold(c, (Scale) ops.get(i)));
                    ops.remove(i--);
                    foldedNorms++;
                }
            }
            for (int i = 0; i < ops.size(); i++) {
                if (ops.get(i) instanceof Add a && a.act() == null) {
                    int term = a.b();
                    Conv fused = fuseAdd(a, term, a.a());
                    if (fused == null) {
                        term = a.a();
                        fused = fuseAdd(a, term, a.b());
                    }
                    if (fused != null) {
                        ops.set(producer(term), fused);
                        ops.remove(i--);
                        fusedAdds++;
                    }
                }
            }
            for (int i = 0; i < ops.size(); i++) {
                if (ops.get(i) instanceof Act act && readers()[act.input()] == 1 && act.input() != 0) {
                    int p = producer(act.input());
                    Op before = ops.get(p);
                    Op fused = before instanceof Conv c && c.act() == null ? c.fused(act.output(), c.sumInto(),
                            act.act())
                            : before instanceof Dense d && d.act() == null ? new Dense(d.name(), d.input(),
                                    act.output(), d.weights(), d.in(), d.out(), d.bias(), act.act())
                            : before instanceof Add a && a.act() == null ? new Add(a.name(), a.a(), a.b(),
                                    act.output(), act.act())
                            : null;
                    if (fused != null) {
                        ops.set(p, fused);
                        ops.remove(i--);
                        fusedActs++;
                    }
                }
            }
            for (int i = 0; i < ops.size(); i++) {
                if (ops.get(i) instanceof Scale s) { // a batch norm no convolution could take: a 1x1 depthwise one
                    ops.set(i, new Conv(s.name(), s.input(), s.output(), s.scale(), new long[]{s.scale().length, 1, 1,
                            1, 1}, s.scale().length, s.shift(), new Window(new int[]{1, 1}, new int[]{1, 1},
                                    new int[]{0, 0}, new int[]{1, 1}, ConvolutionMode.Truncate),
                            -1, null));
                }
            }
            return this;
        }

        /**
         * The convolution producing {@code term} with the add fused in (it adds into {@code other}'s buffer), or null
         * when that is not safe: {@code term} must come from a plain convolution read by nothing else, and
         * {@code other} must be computed before it and read by nothing after it.
         */
        private Conv fuseAdd(Add a, int term, int other) {
            int p = producer(term);
            int q = producer(other);
            if (p < 0 || q < 0 || q > p || readers()[term] != 1 || readers()[other] != 1 + otherReadersBefore(other, p)
                    || other == output || !(ops.get(p) instanceof Conv c) || c.act() != null || c.sumInto() >= 0
                    || c.input() == other) {
                return null;
            }
            return c.fused(a.output(), other, null);
        }

        /** How many steps before step {@code before} read {@code value}. */
        private int otherReadersBefore(int value, int before) {
            int n = 0;
            for (int i = 0; i < before; i++) {
                for (int v : ops.get(i).inputs()) {
                    if (v == value) {
                        n++;
                    }
                }
            }
            return n;
        }

        private static Conv fold(Conv c, Scale s) {
            float[] w = c.weights().clone();
            int per = w.length / s.scale().length;
            float[] bias = new float[s.scale().length];
            for (int o = 0; o < bias.length; o++) {
                double scale = s.scale()[o];
                for (int k = o * per; k < (o + 1) * per; k++) {
                    w[k] = (float) (w[k] * scale);
                }
                bias[o] = (float) ((c.bias() == null ? 0 : c.bias()[o]) * scale + s.shift()[o]);
            }
            return new Conv(c.name(), c.input(), s.output(), w, c.dims(), c.groups(), bias, c.window(), -1, null);
        }

        String summary() {
            long convs = ops.stream().filter(o -> o instanceof Conv).count();
            return String.format(Locale.ROOT, "%d steps from %d layers (%d convolutions; %d batch norms folded, %d"
                    + " residual adds and %d activations fused)", ops.size(), layers, convs, foldedNorms, fusedAdds,
                    fusedActs);
        }
    }

    private static float[] floats(INDArray a) {
        return a.castTo(DataType.FLOAT).dup('c').data().asFloat();
    }

    // ---------------------------------------------------------------------------------------------------------------
    // A plan: the program's buffers and primitives for one input shape.

    private final class Plan {
        final long[] outputShape;
        private final engine cpu = OneDnn.cpu();
        /** Each value's dimensions; 4-D values are kept channels-last, 2-D ones row-major. */
        private final long[][] dims = new long[values][];
        /** The value whose buffer each value lives in (itself, or the term a fused add wrote into). */
        private final int[] home = new int[values];
        /** The step after which each home value's buffer is read no more (the output's: never). */
        private final int[] lastRead = new int[values];
        /** Each value's memory: its dimensions and layout over its home's buffer. */
        private final memory[] views = new memory[values];
        /** Each home value's buffer while it is live. */
        private final memory[] raw = new memory[values];
        /** Buffers no live value uses, to be taken again: activations need a few buffers, not one per layer. */
        private final List<memory> free = new ArrayList<>();
        /** How many activation buffers this plan made. */
        int allocated;
        private final List<primitive> steps = new ArrayList<>();
        private final List<IntMemoryMap> args = new ArrayList<>();
        /** Native objects the primitives keep pointing at: buffers, views, weights, biases; closed with the plan. */
        private final List<Pointer> keep = new ArrayList<>();
        private final memory userInput;
        private final memory userOutput;

        Plan(long[] inputShape) {
            long[] in = inputShape;
            if (unflatten != null && in.length == 2) {
                if (in[1] != unflatten[0] * unflatten[1] * unflatten[2]) {
                    throw new IllegalArgumentException("input of shape " + Arrays.toString(in) + " for a network that"
                            + " reads rows of " + unflatten[0] * unflatten[1] * unflatten[2] + " features");
                }
                in = new long[]{in[0], unflatten[0], unflatten[1], unflatten[2]};
            }
            if (in.length != 4 && in.length != 2) {
                throw new IllegalArgumentException("input of shape " + Arrays.toString(inputShape)
                        + ": the fused network reads [n, c, h, w] images or [n, features] rows");
            }
            Arrays.setAll(home, i -> i);
            for (Op op : program) {
                if (op instanceof Conv c && c.sumInto() >= 0) {
                    home[c.output()] = home[c.sumInto()];
                }
            }
            for (int i = 0; i < program.size(); i++) {
                for (int v : program.get(i).inputs()) {
                    lastRead[home[v]] = Math.max(lastRead[home[v]], i);
                }
            }
            lastRead[home[output]] = Integer.MAX_VALUE;
            define(0, in);
            userInput = new memory(OneDnn.plain(in, in.length == 4 ? memory.format_tag.nchw : memory.format_tag.nc),
                    cpu, (Pointer) null);
            step(new reorder(userInput, buffer(0)), DNNL_ARG_FROM, userInput, DNNL_ARG_TO, buffer(0));
            for (int i = 0; i < program.size(); i++) {
                build(program.get(i));
                for (int v = 0; v < values; v++) {
                    if (raw[v] != null && lastRead[v] == i) {
                        free.add(raw[v]);
                        raw[v] = null;
                    }
                }
            }
            long[] out = dims[output];
            outputShape = out.clone();
            userOutput = new memory(OneDnn.plain(out, out.length == 4 ? memory.format_tag.nchw : memory.format_tag.nc),
                    cpu, (Pointer) null);
            step(new reorder(buffer(output), userOutput), DNNL_ARG_FROM, buffer(output), DNNL_ARG_TO, userOutput);
        }

        /** Releases every native object of this plan. */
        void close() {
            steps.forEach(Pointer::close);
            args.forEach(Pointer::close);
            for (memory v : views) {
                if (v != null) {
                    v.close();
                }
            }
            keep.forEach(Pointer::close);
            userInput.close();
            userOutput.close();
        }

        void run(INDArray input, INDArray out, stream s) {
            userInput.set_data_handle(OneDnn.address(input));
            userOutput.set_data_handle(OneDnn.address(out));
            for (int i = 0; i < steps.size(); i++) {
                steps.get(i).execute(s, args.get(i));
            }
            s._wait();
        }

        private memory.desc layout(long[] d) {
            return OneDnn.plain(d, d.length == 4 ? memory.format_tag.nhwc : memory.format_tag.nc);
        }

        /** Gives {@code value} its dimensions and its memory: a free buffer large enough, or a new one. */
        private void define(int value, long[] d) {
            dims[value] = d;
            memory.desc desc = layout(d);
            if (home[value] == value) {
                long bytes = desc.get_size();
                memory best = null;
                for (memory m : free) {
                    long size = m.get_desc().get_size();
                    if (size >= bytes && (best == null || size < best.get_desc().get_size())) {
                        best = m;
                    }
                }
                if (best != null) {
                    free.remove(best);
                } else {
                    best = new memory(OneDnn.plain(new long[]{(bytes + Float.BYTES - 1) / Float.BYTES},
                            memory.format_tag.x), cpu);
                    allocated++;
                    keep.add(best);
                }
                raw[value] = best;
            }
            views[value] = new memory(desc, cpu, raw[home[value]].get_data_handle());
        }

        private memory buffer(int value) {
            return views[value];
        }

        private long[] dims4(Op op, int value) {
            long[] d = dims[value];
            if (d.length != 4) {
                throw new IllegalArgumentException("'" + op.name() + "' reads images but gets a value of shape "
                        + Arrays.toString(d));
            }
            return d;
        }

        private void step(primitive p, Object... kv) {
            IntMemoryMap m = new IntMemoryMap();
            for (int i = 0; i < kv.length; i += 2) {
                m.put((Integer) kv[i], (memory) kv[i + 1]);
            }
            steps.add(p);
            args.add(m);
        }

        private primitive_attr attr(int sum, Activation act) {
            primitive_attr attr = new primitive_attr();
            post_ops ops = new post_ops();
            if (sum >= 0) {
                ops.append_sum();
            }
            if (act != null) {
                ops.append_eltwise(1f, act.algorithm(), act.alpha(), act.beta());
            }
            attr.set_post_ops(ops);
            return attr;
        }

        /** A constant operand in the primitive's layout, from {@code data} in {@code plain}'s. */
        private memory constant(float[] data, memory.desc plain, memory.desc wanted) {
            FloatPointer host = new FloatPointer(data);
            memory user = new memory(plain, cpu, host);
            if (plain.equals(wanted)) {
                keep.add(host);
                keep.add(user);
                return user;
            }
            memory m = new memory(wanted, cpu);
            keep.add(m);
            try (IntMemoryMap a = new IntMemoryMap(); reorder r = new reorder(user, m)) {
                a.put(DNNL_ARG_FROM, user);
                a.put(DNNL_ARG_TO, m);
                r.execute(stream, a);
                stream._wait();
            } finally {
                user.close();
                host.close();
            }
            return m;
        }

        private void build(Op op) {
            if (op instanceof Conv c) {
                conv(c);
            } else if (op instanceof Pool p) {
                pool(p);
            } else if (op instanceof Dense d) {
                dense(d);
            } else if (op instanceof Add a) {
                add(a);
            } else if (op instanceof Act a) {
                define(a.output(), dims[a.input()]);
                eltwise_forward.primitive_desc pd = new eltwise_forward.primitive_desc(new eltwise_forward.desc(
                        prop_kind.forward_inference, a.act().algorithm(), layout(dims[a.input()]), a.act().alpha(),
                        a.act().beta()), cpu);
                step(new eltwise_forward(pd), DNNL_ARG_SRC, buffer(a.input()), DNNL_ARG_DST, buffer(a.output()));
            } else if (op instanceof Softmax s) {
                define(s.output(), dims[s.input()]);
                softmax_forward.primitive_desc pd = new softmax_forward.primitive_desc(new softmax_forward.desc(
                        prop_kind.forward_inference, layout(dims[s.input()]), 1), cpu);
                step(new softmax_forward(pd), DNNL_ARG_SRC, buffer(s.input()), DNNL_ARG_DST, buffer(s.output()));
            } else if (op instanceof Flatten f) {
                long[] d = dims4(f, f.input());
                define(f.output(), new long[]{d[0], d[1] * d[2] * d[3]});
                memory channelMajor = new memory(OneDnn.plain(d, memory.format_tag.nchw), cpu,
                        buffer(f.output()).get_data_handle());
                keep.add(channelMajor);
                step(new reorder(buffer(f.input()), channelMajor), DNNL_ARG_FROM, buffer(f.input()), DNNL_ARG_TO,
                        channelMajor);
            } else {
                throw new IllegalStateException("step '" + op.name() + "' left after fusion");
            }
        }

        private void conv(Conv c) {
            long[] in = dims4(c, c.input());
            Window w = c.window();
            long inChannels = c.dims()[c.groups() == 1 ? 1 : 2] * c.groups();
            if (in[1] != inChannels) {
                throw new IllegalArgumentException("'" + c.name() + "' expects " + inChannels + " channels, gets "
                        + Arrays.toString(in));
            }
            long outChannels = c.groups() == 1 ? c.dims()[0] : c.dims()[0] * c.dims()[1];
            long[][] geometry = geometry(w, in);
            long[] out = {in[0], outChannels, geometry[0][0], geometry[0][1]};
            if (c.sumInto() >= 0) { // it writes into the term's buffer (its home, set in the constructor)
                if (!Arrays.equals(dims[c.sumInto()], out)) {
                    throw new IllegalArgumentException("'" + c.name() + "' adds its " + Arrays.toString(out)
                            + " output to a term of shape " + Arrays.toString(dims[c.sumInto()]));
                }
            }
            define(c.output(), out);
            long[] weightDims = c.groups() == 1 ? new long[]{c.dims()[0], c.dims()[1], c.dims()[2], c.dims()[3]}
                    : c.dims();
            memory.desc bias = c.bias() == null ? null : OneDnn.plain(new long[]{outChannels}, memory.format_tag.x);
            convolution_forward.desc desc = bias == null
                    ? new convolution_forward.desc(prop_kind.forward_inference, algorithm.convolution_direct,
                            layout(in), OneDnn.any(weightDims), layout(out), geometry[1], geometry[2], geometry[3],
                            geometry[4])
                    : new convolution_forward.desc(prop_kind.forward_inference, algorithm.convolution_direct,
                            layout(in), OneDnn.any(weightDims), bias, layout(out), geometry[1], geometry[2],
                            geometry[3], geometry[4]);
            convolution_forward.primitive_desc pd = new convolution_forward.primitive_desc(desc,
                    attr(c.sumInto(), c.act()), cpu);
            memory weights = constant(c.weights(), OneDnn.plain(weightDims, c.groups() == 1 ? memory.format_tag.oihw
                    : memory.format_tag.goihw), pd.weights_desc());
            weighted(new convolution_forward(pd), c.input(), weights,
                    bias == null ? null : constant(c.bias(), bias, pd.bias_desc()), c.output());
        }

        /** A step reading {@code input} with {@code weights} and {@code bias} (null: none) into {@code output}. */
        private void weighted(primitive p, int input, memory weights, memory bias, int output) {
            if (bias == null) {
                step(p, DNNL_ARG_SRC, buffer(input), DNNL_ARG_WEIGHTS, weights, DNNL_ARG_DST, buffer(output));
            } else {
                step(p, DNNL_ARG_SRC, buffer(input), DNNL_ARG_WEIGHTS, weights, DNNL_ARG_BIAS, bias, DNNL_ARG_DST,
                        buffer(output));
            }
        }

        /**
         * DL4J's output size and oneDNN's window for {@code w} over {@code in}: {out h, w}, strides, dilation (gaps),
         * padding at the top left, padding at the bottom right.
         */
        private long[][] geometry(Window w, long[] in) {
            int[] size = {(int) in[2], (int) in[3]};
            int[] outSize = new int[2];
            int[] pad = w.pad();
            for (int i = 0; i < 2; i++) {
                int extent = (w.kernel()[i] - 1) * w.dilation()[i] + 1;
                outSize[i] = w.mode() == ConvolutionMode.Same ? (size[i] + w.stride()[i] - 1) / w.stride()[i]
                        : (size[i] + 2 * pad[i] - extent) / w.stride()[i] + 1;
                if (outSize[i] < 1) {
                    throw new IllegalArgumentException("a window of " + Arrays.toString(w.kernel()) + " over an input"
                            + " of " + Arrays.toString(in) + " leaves no output");
                }
            }
            if (w.mode() == ConvolutionMode.Same) {
                pad = ConvolutionUtils.getSameModeTopLeftPadding(outSize, size, w.kernel(), w.stride(), w.dilation());
            }
            long[] right = new long[2];
            for (int i = 0; i < 2; i++) {
                right[i] = OneDnnConvolution.Plan.rightPadding(w.mode(), outSize[i], w.stride()[i], w.kernel()[i],
                        w.dilation()[i], size[i], pad[i]);
            }
            return new long[][]{{outSize[0], outSize[1]}, {w.stride()[0], w.stride()[1]},
                    {w.dilation()[0] - 1L, w.dilation()[1] - 1L}, {pad[0], pad[1]}, right};
        }

        private void pool(Pool p) {
            long[] in = dims4(p, p.input());
            long[] kernel;
            long[] strides;
            long[] padLeft;
            long[] padRight;
            long[] out;
            if (p.window() == null) {
                kernel = new long[]{in[2], in[3]};
                strides = kernel;
                padLeft = new long[]{0, 0};
                padRight = padLeft;
                out = new long[]{in[0], in[1], 1, 1};
            } else {
                long[][] g = geometry(p.window(), in);
                kernel = new long[]{p.window().kernel()[0], p.window().kernel()[1]};
                strides = g[1];
                padLeft = g[3];
                padRight = g[4];
                out = new long[]{in[0], in[1], g[0][0], g[0][1]};
            }
            algorithm alg = p.max() ? algorithm.pooling_max
                    : p.includePad() ? algorithm.pooling_avg_include_padding : algorithm.pooling_avg_exclude_padding;
            pooling_forward.primitive_desc pd = new pooling_forward.primitive_desc(new pooling_forward.desc(
                    prop_kind.forward_inference, alg, layout(in), layout(out), strides, kernel, padLeft, padRight),
                    cpu);
            define(p.output(), p.collapse() ? new long[]{in[0], in[1]} : out);
            memory dst = buffer(p.output());
            if (p.collapse()) { // [n, c, 1, 1] channels-last is [n, c] row-major
                dst = new memory(layout(out), cpu, dst.get_data_handle());
                keep.add(dst);
            }
            step(new pooling_forward(pd), DNNL_ARG_SRC, buffer(p.input()), DNNL_ARG_DST, dst);
        }

        private void dense(Dense d) {
            long[] in = dims[d.input()];
            if (in.length != 2 || in[1] != d.in()) {
                throw new IllegalArgumentException("'" + d.name() + "' reads rows of " + d.in() + " features, gets a"
                        + " value of shape " + Arrays.toString(in)
                        + (in.length == 4 ? " (no flattening before it)" : ""));
            }
            long[] out = {in[0], d.out()};
            define(d.output(), out);
            long[] weightDims = {d.out(), d.in()};
            memory.desc bias = d.bias() == null ? null : OneDnn.plain(new long[]{d.out()}, memory.format_tag.x);
            inner_product_forward.desc desc = bias == null
                    ? new inner_product_forward.desc(prop_kind.forward_inference, layout(in), OneDnn.any(weightDims),
                            layout(out))
                    : new inner_product_forward.desc(prop_kind.forward_inference, layout(in), OneDnn.any(weightDims),
                            bias, layout(out));
            inner_product_forward.primitive_desc pd = new inner_product_forward.primitive_desc(desc,
                    attr(-1, d.act()), cpu);
            memory weights = constant(d.weights(), OneDnn.plain(weightDims, memory.format_tag.io), pd.weights_desc());
            weighted(new inner_product_forward(pd), d.input(), weights,
                    bias == null ? null : constant(d.bias(), bias, pd.bias_desc()), d.output());
        }

        private void add(Add a) {
            if (!Arrays.equals(dims[a.a()], dims[a.b()])) {
                throw new IllegalArgumentException("'" + a.name() + "' adds values of shapes "
                        + Arrays.toString(dims[a.a()]) + " and " + Arrays.toString(dims[a.b()]));
            }
            define(a.output(), dims[a.a()]);
            memory.desc d = layout(dims[a.a()]);
            binary.primitive_desc pd = new binary.primitive_desc(new binary.desc(algorithm.binary_add, d, d, d),
                    attr(-1, a.act()), cpu);
            step(new binary(pd), DNNL_ARG_SRC_0, buffer(a.a()), DNNL_ARG_SRC_1, buffer(a.b()), DNNL_ARG_DST,
                    buffer(a.output()));
        }
    }
}
