package dev.shears.trainer.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_WORKSPACE;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.global.dnnl.algorithm;
import org.bytedeco.dnnl.global.dnnl.prop_kind;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.pooling_backward;
import org.bytedeco.dnnl.pooling_forward;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.stream;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.LayerReplacement;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Max pooling for training on oneDNN primitives made once per layer and input shape, the forward pass keeping where
 * each window's maximum was for the back-propagation, as PyTorch keeps the indices of the maxima.
 *
 * <p>DL4J's pooling layer runs libnd4j's {@code maxpool2d} forward and keeps nothing; its oneDNN helper then copies the
 * layer's input and output gradient before every back-propagation, and libnd4j's {@code maxpool2d_bp} builds oneDNN's
 * primitives anew, runs the forward pooling again to find the maxima and reorders the result back to NCHW. On LeNet-5
 * / Fashion-MNIST (batch 64, one core) the two pooling layers took a quarter of each training iteration.
 * {@link #SWAP} puts in place of each max-pooling layer a subclass of DL4J's own class ({@link Pool}) whose training
 * forward pass runs oneDNN's {@code forward_training} pooling on the NCHW arrays, keeping oneDNN's workspace (which
 * element of each window won), and whose back-propagation, once, runs oneDNN's backward pooling from that workspace.
 * Evaluation and inference run the same forward primitive and keep nothing. Without a kept workspace for the layer's
 * current input (a back-propagation without its forward pass, or after an evaluation pass) it runs DL4J's own path.
 *
 * <p>The numbers are DL4J's to the bit, ties and NaN included: libnd4j runs the same oneDNN pooling, which scans a
 * window in row-major order from {@code -Float.MAX_VALUE} and keeps a value only when it is strictly greater, so the
 * output is the window's first maximum, the gradient goes to it, a NaN never wins, and a window with nothing above
 * {@code -Float.MAX_VALUE} sends its gradient to its first element ({@code MaxPoolingTest} holds both to it). It covers
 * NCHW float max pooling without padding or dilation, in the Truncate and Strict modes; every other layer, and every
 * other call, keeps DL4J's path and the layer's helper. The CPU backend only, and only where oneDNN's presets load
 * ({@link OneDnn#available()}). Nothing else changes: the replacement shares the layer's configuration, a checkpoint or
 * a published model names DL4J's class. Like DL4J's layers, one network must not run on two threads at once.
 */
public final class MaxPooling {
    /** Input shapes whose primitives a layer keeps. */
    static final int PLANS = 4;

    /** Puts a {@link Pool} in place of every max-pooling layer. */
    public static final LayerSwap SWAP = new LayerSwap(MaxPooling::replaceable, l -> new Pool((SubsamplingLayer) l),
            Pool.class);

    private MaxPooling() {}

    private static boolean replaceable(Layer layer) {
        return layer.getClass() == SubsamplingLayer.class
                && layer.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.SubsamplingLayer conf
                && conf.getPoolingType() == PoolingType.MAX;
    }

    /** How many back-propagations through {@code layer} used the workspace its forward pass kept. */
    static long reuses(Layer layer) {
        return layer instanceof Pool p ? p.reuses : 0;
    }

    /** DL4J's max-pooling layer, pooling on kept oneDNN primitives. */
    static final class Pool extends SubsamplingLayer {
        private static final long serialVersionUID = 1L;
        private final transient stream stream = new stream(OneDnn.cpu());
        private final transient Map<List<Long>, Plan> plans = OneDnn.recentPlans(PLANS, plan -> {});
        /** The plan whose workspace holds the winners of the last training forward pass, over {@link #keptFor}. */
        private transient Plan kept;
        private transient INDArray keptFor;
        private long reuses;

        /** Takes {@code layer}'s place: its configuration, listeners and counters (and a helper of its own kind). */
        Pool(SubsamplingLayer layer) {
            super(layer.conf(), layer.getDataType());
            LayerReplacement.takeState(layer, this);
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            kept = null;
            keptFor = null;
            if (!supported(input)) {
                return super.activate(training, workspaceMgr);
            }
            assertInputSet(false);
            Plan plan = plan(input);
            INDArray output = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, plan.outputShape,
                    'c');
            plan.forward(OneDnn.contiguous(input), output, stream);
            if (training) {
                kept = plan;
                keptFor = input;
            }
            return output;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            Plan plan = keptFor == input ? kept : null;
            kept = null;
            keptFor = null;
            if (plan == null || epsilon.dataType() != DataType.FLOAT || epsilon.rank() != 4
                    || !Arrays.equals(epsilon.shape(), plan.outputShape)) {
                return super.backpropGradient(epsilon, workspaceMgr);
            }
            assertInputSet(true);
            INDArray gradAtInput = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
                    input.shape(), 'c');
            plan.backward(OneDnn.contiguous(epsilon), gradAtInput, stream);
            reuses++;
            return new Pair<>(new DefaultGradient(), gradAtInput);
        }

        /** What this class pools itself: the layer's configuration and {@code x}'s shape and type. */
        private boolean supported(INDArray x) {
            org.deeplearning4j.nn.conf.layers.SubsamplingLayer conf = layerConf();
            int[] kernel = conf.getKernelSize();
            int[] strides = conf.getStride();
            int[] pad = conf.getPadding();
            int[] dilation = conf.getDilation();
            ConvolutionMode mode = conf.getConvolutionMode();
            if (x == null || conf.getPoolingType() != PoolingType.MAX || x.dataType() != DataType.FLOAT
                    || getDataType() != DataType.FLOAT || conf.getCnn2dDataFormat() != CNN2DFormat.NCHW
                    || x.rank() != 4 || (mode != ConvolutionMode.Truncate && mode != ConvolutionMode.Strict)
                    || pad[0] != 0 || pad[1] != 0 || dilation[0] != 1 || dilation[1] != 1
                    || kernel[0] < 1 || kernel[1] < 1 || strides[0] < 1 || strides[1] < 1
                    || kernel[0] > x.size(2) || kernel[1] > x.size(3)) {
                return false;
            }
            // Strict mode: DL4J's own path reports a size the windows do not tile
            return mode != ConvolutionMode.Strict
                    || ((x.size(2) - kernel[0]) % strides[0] == 0 && (x.size(3) - kernel[1]) % strides[1] == 0);
        }

        private Plan plan(INDArray x) {
            int[] kernel = layerConf().getKernelSize();
            int[] strides = layerConf().getStride();
            long[] in = x.shape();
            List<Long> key = List.of(in[0], in[1], in[2], in[3], (long) kernel[0], (long) kernel[1],
                    (long) strides[0], (long) strides[1]);
            return plans.computeIfAbsent(key, k -> new Plan(in, kernel, strides));
        }
    }

    /**
     * oneDNN's forward-training pooling of one input shape, its workspace, and the backward pooling (made on the first
     * back-propagation), all on NCHW arrays.
     */
    static final class Plan {
        final long[] outputShape;
        private final long[] inputShape;
        private final long[] strides;
        private final long[] kernel;
        private final long[] padding = {0, 0};
        private final pooling_forward.primitive_desc forwardDesc;
        private final primitive forward;
        private final memory source;
        private final memory output;
        private final memory workspace;
        private final IntMemoryMap forwardArgs = new IntMemoryMap();
        private primitive backward;
        private memory outputGradient;
        private memory inputGradient;
        private final IntMemoryMap backwardArgs = new IntMemoryMap();

        Plan(long[] in, int[] kernel, int[] stride) {
            inputShape = in.clone();
            this.kernel = new long[]{kernel[0], kernel[1]};
            strides = new long[]{stride[0], stride[1]};
            outputShape = new long[]{in[0], in[1], (in[2] - kernel[0]) / stride[0] + 1,
                    (in[3] - kernel[1]) / stride[1] + 1};
            forwardDesc = new pooling_forward.primitive_desc(new pooling_forward.desc(prop_kind.forward_training,
                    algorithm.pooling_max, OneDnn.nchw(inputShape), OneDnn.nchw(outputShape), strides, this.kernel,
                    padding, padding),
                    OneDnn.cpu());
            forward = new pooling_forward(forwardDesc);
            source = OneDnn.unbound(OneDnn.nchw(inputShape));
            output = OneDnn.unbound(OneDnn.nchw(outputShape));
            workspace = new memory(forwardDesc.workspace_desc(), OneDnn.cpu());
            forwardArgs.put(DNNL_ARG_SRC, source);
            forwardArgs.put(DNNL_ARG_DST, output);
            forwardArgs.put(DNNL_ARG_WORKSPACE, workspace);
        }

        void forward(INDArray in, INDArray out, stream s) {
            source.set_data_handle(OneDnn.address(in));
            output.set_data_handle(OneDnn.address(out));
            OneDnn.run(forward, s, forwardArgs);
        }

        /** The input gradient from {@code delta}, the output gradient, through the last forward pass's workspace. */
        void backward(INDArray delta, INDArray gradAtInput, stream s) {
            if (backward == null) {
                pooling_backward.primitive_desc desc = new pooling_backward.primitive_desc(new pooling_backward.desc(
                        algorithm.pooling_max, OneDnn.nchw(inputShape), OneDnn.nchw(outputShape), strides, kernel,
                        padding, padding),
                        OneDnn.cpu(), forwardDesc);
                backward = new pooling_backward(desc);
                outputGradient = OneDnn.unbound(OneDnn.nchw(outputShape));
                inputGradient = OneDnn.unbound(OneDnn.nchw(inputShape));
                backwardArgs.put(DNNL_ARG_DIFF_DST, outputGradient);
                backwardArgs.put(DNNL_ARG_DIFF_SRC, inputGradient);
                backwardArgs.put(DNNL_ARG_WORKSPACE, workspace);
            }
            outputGradient.set_data_handle(OneDnn.address(delta));
            inputGradient.set_data_handle(OneDnn.address(gradAtInput));
            OneDnn.run(backward, s, backwardArgs);
        }

    }
}
