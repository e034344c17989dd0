package dev.shears.prune.internal;

import dev.shears.prune.internal.ChannelDependencies.Seg;
import dev.shears.prune.internal.Topology.Node;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.MergeVertex;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.graph.ScaleVertex;
import org.deeplearning4j.nn.conf.graph.ShiftVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SeparableConvolution2D;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.Upsampling2D;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.conf.layers.convolutional.Cropping2D;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Which channel positions carry a constant, whatever the input: a channel whose producer's weights are all zero
 * outputs its activated bias, batch normalisation turns a constant into another (and any channel with a zero scale
 * into its shift), and the constant flows on through activations, pooling without padding, depthwise convolutions,
 * additions and concatenations. Compaction removes such channels and folds their constant into the readers' biases.
 * An unknown value is NaN.
 */
public final class ChannelConstants {

    /**
     * A model's parameters in PyTorch layout, by layer name and DL4J key; null when the layer has no such one.
     * Give standalone arrays, not views into the model's parameters (ND4J indexes some of those wrongly).
     */
    @FunctionalInterface
    public interface Parameters {
        INDArray get(String layer, String key);
    }

    private final ChannelDependencies deps;
    private final Parameters params;
    private final Map<String, double[]> outputs = new HashMap<>();
    private final Map<String, double[]> inputs = new HashMap<>();

    private ChannelConstants(ChannelDependencies deps, Parameters params) {
        this.deps = deps;
        this.params = params;
    }

    /** The constants of every node whose output has a layout. */
    public static ChannelConstants of(ChannelDependencies deps, Parameters params) {
        ChannelConstants c = new ChannelConstants(deps, params);
        for (Node n : deps.topology().nodes()) {
            switch (n.kind()) {
                case INPUT -> c.outputs.put(n.name(), null);
                case LAYER -> c.layer(n);
                case VERTEX -> c.vertex(n);
            }
        }
        return c;
    }

    /** A layer's input, after its preprocessor, position by position (NaN unknown), or null without a layout. */
    public double[] input(String layer) {
        return inputs.get(layer);
    }

    /** Whether a convolution or pooling sees padding, so that a constant input does not give a constant output. */
    public static boolean padded(ConvolutionMode mode, int[] kernel, int[] padding) {
        if (mode == ConvolutionMode.Same) {
            return Arrays.stream(kernel).anyMatch(k -> k > 1);
        }
        return mode == ConvolutionMode.Causal || Arrays.stream(padding).anyMatch(p -> p != 0);
    }

    private void layer(Node n) {
        String name = n.name();
        double[] raw = outputs.get(n.inputs().get(0));
        double[] in = reshape(raw, deps.rawInput(name), deps.input(name));
        inputs.put(name, in);
        List<Seg> outLayout = deps.output(name);
        if (outLayout == null) {
            outputs.put(name, null);
            return;
        }
        Layer l = n.layer();
        double[] out;
        if (l instanceof DepthwiseConvolution2D dw) {
            out = depthwise(name, dw, in);
        } else if (l instanceof SeparableConvolution2D) {
            out = produced(name, "pW");
        } else if (l instanceof ConvolutionLayer || l instanceof org.deeplearning4j.nn.conf.layers.DenseLayer) {
            out = produced(name, "W");
        } else if (l instanceof BatchNormalization bn) {
            out = batchNorm(name, bn, in);
        } else {
            out = passed(l, in);
        }
        if (l instanceof ConvolutionLayer || l instanceof org.deeplearning4j.nn.conf.layers.DenseLayer
                || l instanceof BatchNormalization) {
            activate(((BaseLayer) l).getActivationFn(), out);
        }
        outputs.put(name, out);
    }

    private void vertex(Node n) {
        List<double[]> ins = new ArrayList<>();
        n.inputs().forEach(i -> ins.add(outputs.get(i)));
        List<Seg> layout = deps.output(n.name());
        GraphVertex v = n.vertex();
        double[] out = null;
        if (layout != null) {
            if (v instanceof ElementWiseVertex e) {
                out = elementWise(e.getOp(), ins);
            } else if (v instanceof MergeVertex) {
                out = ins.stream().flatMapToDouble(Arrays::stream).toArray();
            } else if (v instanceof ScaleVertex s) {
                out = Arrays.stream(ins.get(0)).map(x -> x * s.getScaleFactor()).toArray();
            } else if (v instanceof ShiftVertex s) {
                out = Arrays.stream(ins.get(0)).map(x -> x + s.getShiftFactor()).toArray();
            } else if (v instanceof PreprocessorVertex) {
                out = reshape(ins.get(0), deps.output(n.inputs().get(0)), layout);
            }
        }
        outputs.put(n.name(), out);
    }

    /** A producer's outputs: its bias where all its weights for the channel are zero. */
    private double[] produced(String layer, String weight) {
        INDArray w = params.get(layer, weight);
        INDArray b = params.get(layer, "b");
        int n = (int) w.size(0);
        double[] out = new double[n];
        for (int o = 0; o < n; o++) {
            out[o] = allZero(Channels.slice(w, 0, o)) ? (b == null ? 0 : b.getDouble(o)) : Double.NaN;
        }
        return out;
    }

    private double[] depthwise(String layer, DepthwiseConvolution2D conf, double[] in) {
        INDArray w = params.get(layer, "W"); // [nIn, multiplier, kh, kw]
        INDArray b = params.get(layer, "b");
        int m = conf.getDepthMultiplier();
        boolean padded = padded(conf.getConvolutionMode(), conf.getKernelSize(), conf.getPadding());
        double[] out = new double[in.length * m];
        for (int p = 0; p < in.length; p++) {
            for (int j = 0; j < m; j++) {
                INDArray kernel = w.get(NDArrayIndex.point(p), NDArrayIndex.point(j));
                double bias = b == null ? 0 : b.getDouble(p * m + j);
                double k = in[p];
                if (allZero(kernel) || k == 0) {
                    out[p * m + j] = bias;
                } else {
                    out[p * m + j] = Double.isNaN(k) || padded ? Double.NaN
                            : k * kernel.sumNumber().doubleValue() + bias;
                }
            }
        }
        return out;
    }

    private double[] batchNorm(String layer, BatchNormalization conf, double[] in) {
        INDArray gamma = params.get(layer, "gamma");
        INDArray beta = params.get(layer, "beta");
        INDArray mean = params.get(layer, "mean");
        INDArray var = params.get(layer, "var");
        INDArray log10std = params.get(layer, "log10stdev");
        double[] out = new double[in.length];
        for (int c = 0; c < in.length; c++) {
            double g = gamma == null ? conf.getGamma() : gamma.getDouble(c);
            double be = beta == null ? conf.getBeta() : beta.getDouble(c);
            double std = var != null ? Math.sqrt(var.getDouble(c) + conf.getEps())
                    : Math.pow(10, log10std.getDouble(c));
            out[c] = g == 0 ? be : g * (in[c] - mean.getDouble(c)) / std + be;
        }
        return out;
    }

    private static double[] passed(Layer l, double[] in) {
        if (l instanceof ActivationLayer act) {
            double[] out = in.clone();
            activate(act.getActivationFn(), out);
            return out;
        }
        if (l instanceof DropoutLayer || l instanceof Upsampling2D || l instanceof Cropping2D) {
            return in;
        }
        boolean keeps;
        if (l instanceof SubsamplingLayer pool) {
            keeps = (pool.getPoolingType() == PoolingType.MAX || pool.getPoolingType() == PoolingType.AVG)
                    && !padded(pool.getConvolutionMode(), pool.getKernelSize(), pool.getPadding());
        } else if (l instanceof GlobalPoolingLayer pool) {
            keeps = pool.getPoolingType() == PoolingType.MAX || pool.getPoolingType() == PoolingType.AVG;
        } else if (l instanceof ZeroPaddingLayer) {
            keeps = false;
        } else {
            return nan(in.length);
        }
        // a zero stays zero under any pooling and padding; another constant only where no border is seen
        return Arrays.stream(in).map(x -> keeps || x == 0 ? x : Double.NaN).toArray();
    }

    private static double[] elementWise(ElementWiseVertex.Op op, List<double[]> ins) {
        double[] out = ins.get(0).clone();
        for (int i = 1; i < ins.size(); i++) {
            double[] x = ins.get(i);
            for (int p = 0; p < out.length; p++) {
                out[p] = switch (op) {
                    case Add, Average -> out[p] + x[p];
                    case Subtract -> out[p] - x[p];
                    case Product -> out[p] * x[p];
                    case Max -> Math.max(out[p], x[p]);
                };
            }
        }
        if (op == ElementWiseVertex.Op.Average) {
            for (int p = 0; p < out.length; p++) {
                out[p] /= ins.size();
            }
        }
        return out;
    }

    /**
     * Values of {@code from}'s layout laid out as {@code to}'s: the same channels, each spread over more positions
     * (flattening) or gathered from several (a constant only if they all agree).
     */
    private double[] reshape(double[] values, List<Seg> from, List<Seg> to) {
        if (values == null || to == null) {
            return null;
        }
        if (from.equals(to)) {
            return values;
        }
        double[] out = new double[deps.positions(to)];
        int src = 0;
        int dst = 0;
        for (int s = 0; s < to.size(); s++) {
            int wf = from.get(s).width();
            int wt = to.get(s).width();
            for (int c = 0; c < deps.size(to.get(s).space()); c++) {
                double v = values[src];
                for (int i = 1; i < wf; i++) {
                    v = values[src + i] == v ? v : Double.NaN;
                }
                Arrays.fill(out, dst, dst + wt, v);
                src += wf;
                dst += wt;
            }
        }
        return out;
    }

    private static void activate(IActivation activation, double[] values) {
        for (int i = 0; i < values.length; i++) {
            if (!Double.isNaN(values[i])) {
                INDArray v = Nd4j.scalar(DataType.FLOAT, (float) values[i]).reshape(1, 1);
                values[i] = activation.getActivation(v, false).getDouble(0);
            }
        }
    }

    private static boolean allZero(INDArray a) {
        return a.amaxNumber().doubleValue() == 0;
    }

    private static double[] nan(int n) {
        double[] d = new double[n];
        Arrays.fill(d, Double.NaN);
        return d;
    }
}
