package dev.shears.trainer.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_BIAS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_WEIGHTS;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WEIGHTS;

import dev.shears.trainer.cpu.OneDnn.Operand;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.convolution_backward_data;
import org.bytedeco.dnnl.convolution_backward_weights;
import org.bytedeco.dnnl.convolution_forward;
import org.bytedeco.dnnl.global.dnnl.algorithm;
import org.bytedeco.dnnl.global.dnnl.prop_kind;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.stream;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelperAccess;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * 2-D convolution on oneDNN primitives made once per layer and input shape, as PyTorch's oneDNN path keeps them.
 *
 * <p>DL4J's oneDNN helper runs libnd4j's {@code conv2d} and {@code conv2d_bp}, which create oneDNN's primitive
 * descriptors and primitives anew on every call and compute the input gradient of the first layer, which nobody
 * reads. {@link #install} gives a network's convolution layers a helper that builds, for each input shape it meets
 * (the training batch, the evaluation batch, a short last batch; the four most recent are kept), oneDNN's forward,
 * backward-weights and backward-data primitives once, with activations in channels-last order (in which oneDNN's
 * vectorised kernels serve the few channels of small networks best) and weights in whatever blocked layout oneDNN
 * chooses. Each call then only reorders the NCHW arrays DL4J passes in and out (in DL4J's working-memory workspaces)
 * and the weights (a few kilobytes), and runs the primitives on ND4J's buffers.
 *
 * <p>The numbers are oneDNN's, as with DL4J's helper, up to float rounding (a different kernel sums in a different
 * order); like any oneDNN primitive on a fixed number of threads they are the same on every run, so a resumed job
 * computes what an uninterrupted one does. It covers NCHW float convolutions with or without a bias
 * ({@code ConvolutionLayer} itself, not its subclasses), any kernel, stride, padding and dilation, in every
 * {@link ConvolutionMode}, in a {@link MultiLayerNetwork} or a {@link ComputationGraph}; every other call goes to the
 * layer's former helper. A layer whose input gradient is not needed (the first, in training) can skip it
 * ({@link #skipInputGradient}). The CPU backend only, and only where the presets load ({@link #available()}); like
 * DL4J's helpers, a network must not run on two threads at once.
 */
public final class OneDnnConvolution {
    /** Input shapes whose primitives a layer keeps. */
    static final int PLANS = 4;

    private OneDnnConvolution() {}

    /** Whether oneDNN's own API loads here (the presets' native library for this platform). */
    public static boolean available() {
        return OneDnn.available();
    }

    /**
     * Gives every plain convolution layer of {@code net} this helper; idempotent. Does nothing when
     * {@link #available()} is false. Call it after every (re)build of the network's layers (a clone or a
     * deserialised network has DL4J's helpers again).
     *
     * @return how many layers use it
     */
    public static int install(MultiLayerNetwork net) {
        return install(net.getLayers());
    }

    /** As {@link #install(MultiLayerNetwork)}, for the layers of a graph (each layer vertex's). */
    public static int install(ComputationGraph graph) {
        return install(graph.getLayers());
    }

    private static int install(Layer[] layers) {
        if (!OneDnn.available()) {
            return 0;
        }
        int installed = 0;
        for (Layer layer : layers) {
            if (layer.getClass() != ConvolutionLayer.class) {
                continue;
            }
            ConvolutionLayer conv = (ConvolutionLayer) layer;
            ConvolutionHelper helper = ConvolutionHelperAccess.get(conv);
            if (!(helper instanceof Helper)) {
                ConvolutionHelperAccess.set(conv, new Helper(helper));
            }
            installed++;
        }
        return installed;
    }

    /** Whether {@code layer} convolves with this class's helper. */
    public static boolean installed(Layer layer) {
        return layer instanceof ConvolutionLayer conv && ConvolutionHelperAccess.get(conv) instanceof Helper;
    }

    /**
     * Makes {@code layer}'s back-propagation compute the parameters' gradients only; its input gradient becomes an
     * array of NaN (as {@link InputLayerGradients} does for DL4J's helper). For a network's first layer, whose input
     * gradient {@code fit} drops.
     *
     * @return false when {@code layer} does not use this helper (nothing changed)
     */
    public static boolean skipInputGradient(Layer layer) {
        if (!installed(layer)) {
            return false;
        }
        ((Helper) ConvolutionHelperAccess.get((ConvolutionLayer) layer)).inputGradient = false;
        return true;
    }

    /** Whether {@code layer} uses this helper and skips its input gradient. */
    static boolean skipsInputGradient(Layer layer) {
        return installed(layer) && !((Helper) ConvolutionHelperAccess.get((ConvolutionLayer) layer)).inputGradient;
    }

    /** The helper: cached primitives where they apply, the layer's former helper (or DL4J's own path) elsewhere. */
    static final class Helper implements ConvolutionHelper {
        private final ConvolutionHelper inner;
        private final stream stream = new stream(OneDnn.cpu());
        private final NaNGradient noInputGradient = new NaNGradient();
        private final Map<List<Long>, Plan> plans = OneDnn.recentPlans(PLANS, plan -> {});
        boolean inputGradient = true;

        Helper(ConvolutionHelper inner) {
            this.inner = inner;
        }

        @Override
        public boolean checkSupported() {
            return true;
        }

        @Override
        public INDArray preOutput(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides,
                int[] pad, org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode mode,
                org.deeplearning4j.nn.conf.layers.ConvolutionLayer.FwdAlgo fwdAlgo, ConvolutionMode convolutionMode,
                int[] dilation, CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
            if (!supported(input, weights, bias, format)) {
                return inner == null ? null : inner.preOutput(input, weights, bias, kernel, strides, pad, mode,
                        fwdAlgo, convolutionMode, dilation, format, workspaceMgr);
            }
            Plan plan = plan(input, weights, bias != null, kernel, strides, pad, convolutionMode, dilation);
            INDArray output = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT,
                    plan.outputShape, 'c');
            plan.forward(OneDnn.contiguous(input), OneDnn.contiguous(weights),
                    bias == null ? null : OneDnn.contiguous(bias), output,
                    workspaceMgr, stream);
            return output;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias,
                INDArray delta, int[] kernel, int[] strides, int[] pad, INDArray biasGradView, INDArray weightGradView,
                IActivation afn, org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode mode,
                org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdFilterAlgo bwdFilterAlgo,
                org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdDataAlgo bwdDataAlgo,
                ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
            if (!supported(input, weights, bias, format) || (bias != null && biasGradView == null)
                    || delta.dataType() != DataType.FLOAT) {
                return inner == null ? null : inner.backpropGradient(input, weights, bias, delta, kernel, strides,
                        pad, biasGradView, weightGradView, afn, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode,
                        dilation, format, workspaceMgr);
            }
            Plan plan = plan(input, weights, bias != null, kernel, strides, pad, convolutionMode, dilation);
            if (!Arrays.equals(delta.shape(), plan.outputShape)) {
                throw new IllegalArgumentException("output gradient of shape " + Arrays.toString(delta.shape())
                        + " for a convolution whose output is " + Arrays.toString(plan.outputShape));
            }
            INDArray gradAtInput = inputGradient
                    ? workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c')
                    : null;
            INDArray weightGrad = OneDnn.contiguous(weightGradView);
            // Without a bias DL4J passes a scratch bias gradient (no parameter): left alone, and not returned.
            INDArray biasGrad = bias == null ? null : OneDnn.contiguous(biasGradView);
            plan.backward(OneDnn.contiguous(input), OneDnn.contiguous(weights), OneDnn.contiguous(delta), weightGrad,
                    biasGrad, gradAtInput,
                    workspaceMgr, stream);
            if (weightGrad != weightGradView) {
                weightGradView.assign(weightGrad);
            }
            Gradient g = new DefaultGradient();
            if (bias != null) {
                if (biasGrad != biasGradView) {
                    biasGradView.assign(biasGrad);
                }
                g.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
            }
            g.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView);
            return new Pair<>(g, gradAtInput != null ? gradAtInput : noInputGradient.like(input));
        }

        @Override
        public INDArray activate(INDArray z, IActivation afn, boolean training) {
            return afn.getActivation(z, training);
        }

        @Override
        public Map<String, Long> helperMemoryUse() {
            return Map.of();
        }

        private Plan plan(INDArray input, INDArray weights, boolean withBias, int[] kernel, int[] strides, int[] pad,
                ConvolutionMode mode, int[] dilation) {
            return Plan.of(plans, input, Filter.dense(weights.shape()), withBias, kernel, strides, pad, mode,
                    dilation);
        }

        private static boolean supported(INDArray input, INDArray weights, INDArray bias, CNN2DFormat format) {
            return format == CNN2DFormat.NCHW && input.rank() == 4 && weights.rank() == 4
                    && input.dataType() == DataType.FLOAT && weights.dataType() == DataType.FLOAT
                    && input.size(1) == weights.size(1)
                    && (bias == null || (bias.dataType() == DataType.FLOAT && bias.length() == weights.size(0)));
        }
    }

    /**
     * A layer's weights as oneDNN's convolution sees them: the primitive's dimensions ({@code [out, in, kh, kw]}, or
     * {@code [groups, out, in, kh, kw]} per group), the number of output channels, the strides of DL4J's array over
     * those dimensions, and the layout of activations that oneDNN's kernels for such weights serve best.
     */
    record Filter(long[] dims, long outputs, long[] strides, memory.format_tag activations) {
        /**
         * A plain convolution's weights, DL4J's {@code [out, in, kh, kw]} in row-major order; activations
         * channels-last, in which oneDNN's vectorised kernels serve the few channels of small networks best.
         */
        static Filter dense(long[] oihw) {
            return new Filter(oihw, oihw[0], new long[]{oihw[1] * oihw[2] * oihw[3], oihw[2] * oihw[3], oihw[3], 1},
                    memory.format_tag.nhwc);
        }

        /**
         * A depthwise convolution's weights, DL4J's {@code [kh, kw, channels, multiplier]} in row-major order: one
         * group per input channel, {@code multiplier} outputs each; output channel {@code c * multiplier + m}, as
         * libnd4j's {@code depthwise_conv2d} numbers them. Activations in oneDNN's choice of layout (blocks of 16
         * channels with AVX-512): on MobileNetV2's shapes the reorders from and to NCHW take a half to three
         * quarters of the time they take to channels-last, and they still cost more than the depthwise kernels.
         */
        static Filter depthwise(long[] hwcm) {
            long kw = hwcm[1];
            long channels = hwcm[2];
            long multiplier = hwcm[3];
            return new Filter(new long[]{channels, multiplier, 1, hwcm[0], kw}, channels * multiplier,
                    new long[]{multiplier, 1, 1, kw * channels * multiplier, channels * multiplier},
                    memory.format_tag.any);
        }

        /** The memory descriptor of DL4J's array. */
        memory.desc user() {
            return new memory.desc(dims, memory.data_type.f32, strides);
        }
    }

    /**
     * The primitives of one layer for one input shape, and their operands. The backward primitives are made on
     * the first back-propagation (an evaluation's shape needs none).
     */
    static final class Plan {
        final long[] outputShape;
        private final long[] inputDims;
        private final Filter filter;
        private final long[] biasDims;
        private final long[] strides;
        private final long[] dilation;
        private final long[] padLeft;
        private final long[] padRight;
        private final convolution_forward.primitive_desc forwardDesc;
        private final primitive forward;
        private final Operand source;
        private final Operand weightsIn;
        private final Operand bias;
        private final Operand output;
        private final IntMemoryMap forwardArgs = new IntMemoryMap();
        private Backward backward;

        /**
         * The plan in {@code plans} for this input shape, filter and geometry, made and kept there when it has none.
         */
        static Plan of(Map<List<Long>, Plan> plans, INDArray input, Filter filter, boolean withBias, int[] kernel,
                int[] strides, int[] pad, ConvolutionMode mode, int[] dilation) {
            List<Long> key = new ArrayList<>(24);
            for (long d : input.shape()) {
                key.add(d);
            }
            for (long d : filter.dims()) {
                key.add(d);
            }
            for (int[] values : new int[][]{kernel, strides, pad, dilation}) {
                key.add((long) values[0]);
                key.add((long) values[1]);
            }
            key.add((long) mode.ordinal());
            key.add(withBias ? 1L : 0L);
            Plan plan = plans.get(key);
            if (plan == null) {
                plan = new Plan(input, filter, withBias, kernel, strides, pad, mode, dilation);
                plans.put(key, plan);
            }
            return plan;
        }

        Plan(INDArray input, Filter filter, boolean withBias, int[] kernel, int[] stride, int[] pad,
                ConvolutionMode mode, int[] dilation) {
            inputDims = input.shape();
            this.filter = filter;
            biasDims = new long[]{filter.outputs()};
            int[] out = ConvolutionUtils.getOutputSize(input, kernel, stride, mode == ConvolutionMode.Same ? null : pad,
                    mode, dilation, CNN2DFormat.NCHW);
            outputShape = new long[]{inputDims[0], filter.outputs(), out[0], out[1]};
            strides = new long[]{stride[0], stride[1]};
            this.dilation = new long[]{dilation[0] - 1L, dilation[1] - 1L}; // oneDNN counts the gaps
            padLeft = new long[]{pad[0], pad[1]};
            padRight = new long[]{
                    rightPadding(mode, out[0], stride[0], kernel[0], dilation[0], inputDims[2], pad[0]),
                    rightPadding(mode, out[1], stride[1], kernel[1], dilation[1], inputDims[3], pad[1])};
            convolution_forward.desc desc = withBias
                    ? new convolution_forward.desc(prop_kind.forward_training, algorithm.convolution_direct,
                            activations(inputDims), OneDnn.any(filter.dims()), biasDesc(), activations(outputShape),
                            strides, this.dilation, padLeft, padRight)
                    : new convolution_forward.desc(prop_kind.forward_training, algorithm.convolution_direct,
                            activations(inputDims), OneDnn.any(filter.dims()), activations(outputShape), strides,
                            this.dilation, padLeft, padRight);
            forwardDesc = new convolution_forward.primitive_desc(desc, OneDnn.cpu());
            forward = new convolution_forward(forwardDesc);
            source = Operand.input(OneDnn.nchw(inputDims), forwardDesc.src_desc());
            weightsIn = Operand.ownedInput(filter.user(), forwardDesc.weights_desc());
            bias = withBias ? Operand.input(biasDesc(), forwardDesc.weights_desc(1)) : null;
            output = Operand.output(OneDnn.nchw(outputShape), forwardDesc.dst_desc());
            forwardArgs.put(DNNL_ARG_SRC, source.forPrimitive());
            forwardArgs.put(DNNL_ARG_WEIGHTS, weightsIn.forPrimitive());
            if (bias != null) {
                forwardArgs.put(DNNL_ARG_BIAS, bias.forPrimitive());
            }
            forwardArgs.put(DNNL_ARG_DST, output.forPrimitive());
        }

        /** {@code b} is null for a plan without a bias. */
        void forward(INDArray input, INDArray weights, INDArray b, INDArray out, LayerWorkspaceMgr ws, stream s) {
            source.bind(input, ws, ArrayType.FF_WORKING_MEM);
            weightsIn.bind(weights, ws, ArrayType.FF_WORKING_MEM);
            output.bind(out, ws, ArrayType.FF_WORKING_MEM);
            source.reorder(s);
            weightsIn.reorder(s);
            if (bias != null) {
                bias.bind(b, ws, ArrayType.FF_WORKING_MEM);
                bias.reorder(s);
            }
            OneDnn.run(forward, s, forwardArgs);
            output.reorder(s);
        }

        void backward(INDArray input, INDArray weights, INDArray delta, INDArray weightGrad, INDArray biasGrad,
                INDArray inputGrad, LayerWorkspaceMgr ws, stream s) {
            if (backward == null) {
                backward = new Backward();
            }
            backward.run(input, weights, delta, weightGrad, biasGrad, inputGrad, ws, s);
        }

        /** Padding at the bottom and right: what makes oneDNN's output size DL4J's (Same mode may pad unevenly). */
        static long rightPadding(ConvolutionMode mode, int out, int stride, int kernel, int dilation,
                long in, int padLeft) {
            if (mode != ConvolutionMode.Same) {
                return padLeft;
            }
            long extent = (long) (kernel - 1) * dilation + 1;
            return Math.max(0, (out - 1L) * stride + extent - in - padLeft);
        }

        private memory.desc biasDesc() {
            return OneDnn.plain(biasDims, memory.format_tag.x);
        }

        private memory.desc activations(long[] dims) {
            return OneDnn.plain(dims, filter.activations());
        }

        /** Backward-weights always; backward-data unless the layer skips its input gradient. */
        private final class Backward {
            private final primitive weightsPrimitive;
            private final Operand sourceForWeights;
            private final Operand deltaForWeights;
            private final Operand weightGradOut;
            private final Operand biasGradOut;
            private final IntMemoryMap weightsArgs = new IntMemoryMap();
            private primitive dataPrimitive;
            private Operand deltaForData;
            private Operand weightsForData;
            private Operand inputGradOut;
            private final IntMemoryMap dataArgs = new IntMemoryMap();

            Backward() {
                convolution_backward_weights.desc desc = bias != null
                        ? new convolution_backward_weights.desc(algorithm.convolution_direct, activations(inputDims),
                                OneDnn.any(filter.dims()), biasDesc(), activations(outputShape), strides, dilation,
                                padLeft, padRight)
                        : new convolution_backward_weights.desc(algorithm.convolution_direct, activations(inputDims),
                                OneDnn.any(filter.dims()), activations(outputShape), strides, dilation, padLeft,
                                padRight);
                convolution_backward_weights.primitive_desc wd = new convolution_backward_weights.primitive_desc(desc,
                        OneDnn.cpu(), forwardDesc);
                weightsPrimitive = new convolution_backward_weights(wd);
                sourceForWeights = Operand.input(OneDnn.nchw(inputDims), wd.src_desc());
                deltaForWeights = Operand.input(OneDnn.nchw(outputShape), wd.diff_dst_desc());
                weightGradOut = Operand.ownedOutput(filter.user(), wd.diff_weights_desc());
                biasGradOut = bias != null ? Operand.output(biasDesc(), wd.diff_bias_desc()) : null;
                weightsArgs.put(DNNL_ARG_SRC, sourceForWeights.forPrimitive());
                weightsArgs.put(DNNL_ARG_DIFF_DST, deltaForWeights.forPrimitive());
                weightsArgs.put(DNNL_ARG_DIFF_WEIGHTS, weightGradOut.forPrimitive());
                if (biasGradOut != null) {
                    weightsArgs.put(DNNL_ARG_DIFF_BIAS, biasGradOut.forPrimitive());
                }
            }

            private void buildData() {
                convolution_backward_data.primitive_desc dd = new convolution_backward_data.primitive_desc(
                        new convolution_backward_data.desc(algorithm.convolution_direct, activations(inputDims),
                                OneDnn.any(filter.dims()), activations(outputShape), strides, dilation, padLeft,
                                padRight),
                        OneDnn.cpu(), forwardDesc);
                dataPrimitive = new convolution_backward_data(dd);
                // Usually both primitives want the output gradient in the same layout: reordered once, then.
                deltaForData = dd.diff_dst_desc().equals(deltaForWeights.wanted()) ? null
                        : Operand.input(OneDnn.nchw(outputShape), dd.diff_dst_desc());
                weightsForData = Operand.ownedInput(filter.user(), dd.weights_desc());
                inputGradOut = Operand.output(OneDnn.nchw(inputDims), dd.diff_src_desc());
                dataArgs.put(DNNL_ARG_DIFF_DST, (deltaForData == null ? deltaForWeights : deltaForData).forPrimitive());
                dataArgs.put(DNNL_ARG_WEIGHTS, weightsForData.forPrimitive());
                dataArgs.put(DNNL_ARG_DIFF_SRC, inputGradOut.forPrimitive());
            }

            void run(INDArray input, INDArray weights, INDArray delta, INDArray weightGrad, INDArray biasGrad,
                    INDArray inputGrad, LayerWorkspaceMgr ws, stream s) {
                sourceForWeights.bind(input, ws, ArrayType.BP_WORKING_MEM);
                deltaForWeights.bind(delta, ws, ArrayType.BP_WORKING_MEM);
                weightGradOut.bind(weightGrad, ws, ArrayType.BP_WORKING_MEM);
                sourceForWeights.reorder(s);
                deltaForWeights.reorder(s);
                if (biasGradOut != null) {
                    biasGradOut.bind(biasGrad, ws, ArrayType.BP_WORKING_MEM);
                }
                OneDnn.run(weightsPrimitive, s, weightsArgs);
                weightGradOut.reorder(s);
                if (biasGradOut != null) {
                    biasGradOut.reorder(s);
                }
                if (inputGrad == null) {
                    return;
                }
                if (dataPrimitive == null) {
                    buildData();
                }
                if (deltaForData != null) {
                    deltaForData.bind(delta, ws, ArrayType.BP_WORKING_MEM);
                    deltaForData.reorder(s);
                }
                weightsForData.bind(weights, ws, ArrayType.BP_WORKING_MEM);
                inputGradOut.bind(inputGrad, ws, ArrayType.BP_WORKING_MEM);
                weightsForData.reorder(s);
                OneDnn.run(dataPrimitive, s, dataArgs);
                inputGradOut.reorder(s);
            }
        }
    }
}
