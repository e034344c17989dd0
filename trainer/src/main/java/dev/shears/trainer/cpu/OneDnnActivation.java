package dev.shears.trainer.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;

import java.util.List;
import java.util.Map;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.eltwise_backward;
import org.bytedeco.dnnl.eltwise_forward;
import org.bytedeco.dnnl.global.dnnl.algorithm;
import org.bytedeco.dnnl.global.dnnl.prop_kind;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.stream;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.ActivationLayer;
import org.deeplearning4j.nn.multilayer.LayerReplacement;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * ReLU and ReLU6 activation layers (ResNet's and MobileNet's) on oneDNN's element-wise primitives, made once per layer
 * and input shape.
 *
 * <p>DL4J's activation layer copies its input and applies the activation in place on the copy, and back-propagates by
 * copying the input again and running the activation's {@code backprop} on it ({@link ReluGradients}' vectorised
 * passes: a step, a product, and for ReLU6 a subtraction, a second step and a second product). {@link #SWAP} puts
 * in place of each activation layer whose activation is the plain ReLU or ReLU6, with no dropout, a subclass of DL4J's
 * class ({@link Eltwise}) that runs oneDNN's {@code eltwise_forward} (one pass from the input into the output) and
 * {@code eltwise_backward} (one pass over the input and the output gradient into the input gradient).
 *
 * <p>The numbers are DL4J's to the bit: the forward pass is a comparison per element, and the backward pass passes the
 * output gradient where {@code 0 < z} (ReLU) or {@code 0 < z < 6} (ReLU6) and writes 0 elsewhere, as
 * {@link ReluGradients} does. (oneDNN's gradients from the source pass ReLU6's at exactly {@code z = 6}; its gradients
 * from the destination test {@code 0 < d < 6}, and for these two functions that test on {@code z} is the one wanted,
 * so the backward primitives are the destination-based ones, given the input.) Where the gradient is 0 it is +0.0
 * here, -0.0 or +0.0 there. The CPU backend only, and only where oneDNN's presets load ({@link OneDnn#available()});
 * float arrays of any rank, in any order (a non-contiguous input is copied first). A checkpoint or a published model
 * names DL4J's classes. Like DL4J's layers, one network must not run on two threads at once.
 */
public final class OneDnnActivation {
    /** Input shapes whose primitives a layer keeps. */
    static final int PLANS = 4;

    /** Puts an {@link Eltwise} in place of every ReLU and ReLU6 activation layer with no dropout. */
    public static final LayerSwap SWAP = new LayerSwap(
            l -> l.getClass() == ActivationLayer.class && function((ActivationLayer) l) != null,
            l -> new Eltwise((ActivationLayer) l), Eltwise.class);

    private OneDnnActivation() {}

    /** oneDNN's algorithm and bounds for {@code layer}'s activation, or null when this class does not cover it. */
    private static Function function(ActivationLayer layer) {
        org.deeplearning4j.nn.conf.layers.ActivationLayer conf = layer.layerConf();
        if (conf.getIDropout() != null) {
            return null;
        }
        IActivation fn = conf.getActivationFn();
        if (fn instanceof ActivationReLU relu && relu.getMax() == null && relu.getThreshold() == null
                && relu.getNegativeSlope() == null) {
            return new Function(algorithm.eltwise_relu_use_dst_for_bwd, 0f, 0f);
        }
        if (fn instanceof ActivationReLU6) {
            return new Function(algorithm.eltwise_clip_v2_use_dst_for_bwd, 0f, 6f);
        }
        return null;
    }

    /** An element-wise function as oneDNN names it: its algorithm and its alpha and beta. */
    private record Function(algorithm kind, float alpha, float beta) {
    }

    /** DL4J's activation layer, on oneDNN's element-wise primitives where they apply. */
    static final class Eltwise extends ActivationLayer {
        private static final long serialVersionUID = 1L;
        private final transient stream stream = new stream(OneDnn.cpu());
        private final transient Map<List<Long>, Plan> plans = OneDnn.recentPlans(PLANS, plan -> {});
        private final transient Function function;

        /** Takes {@code layer}'s place: its configuration, listeners and counters. */
        Eltwise(ActivationLayer layer) {
            super(layer.conf(), layer.getDataType());
            LayerReplacement.takeState(layer, this);
            function = function(layer);
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(false);
            if (!supported(input)) {
                return super.activate(training, workspaceMgr);
            }
            INDArray output = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, input.shape(),
                    'c');
            plan(input).forward(OneDnn.contiguous(input), output, stream);
            return output;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(true);
            if (!supported(input) || epsilon.dataType() != DataType.FLOAT
                    || !java.util.Arrays.equals(epsilon.shape(), input.shape())) {
                return super.backpropGradient(epsilon, workspaceMgr);
            }
            INDArray delta = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(),
                    'c');
            plan(input).backward(OneDnn.contiguous(input), OneDnn.contiguous(epsilon), delta, stream);
            return new Pair<>(new DefaultGradient(), delta);
        }

        private boolean supported(INDArray in) {
            return in.dataType() == DataType.FLOAT && in.rank() >= 1 && in.rank() <= 5;
        }

        private Plan plan(INDArray in) {
            long[] shape = in.shape();
            List<Long> key = java.util.Arrays.stream(shape).boxed().toList();
            return plans.computeIfAbsent(key, k -> new Plan(shape, function));
        }
    }

    /** oneDNN's forward and backward element-wise primitives for one shape, all operands plain row-major. */
    static final class Plan {
        private final eltwise_forward.primitive_desc forwardDesc;
        private final primitive forward;
        private final Function function;
        private final memory.desc data;
        private final memory source;
        private final memory output;
        private final IntMemoryMap forwardArgs = new IntMemoryMap();
        private primitive backward;
        private memory outputGradient;
        private memory inputGradient;
        private final IntMemoryMap backwardArgs = new IntMemoryMap();

        Plan(long[] shape, Function function) {
            this.function = function;
            data = OneDnn.plain(shape, ROW_MAJOR[shape.length - 1]);
            forwardDesc = new eltwise_forward.primitive_desc(new eltwise_forward.desc(prop_kind.forward_training,
                    function.kind(), data, function.alpha(), function.beta()), OneDnn.cpu());
            forward = new eltwise_forward(forwardDesc);
            source = OneDnn.unbound(data);
            output = OneDnn.unbound(data);
            forwardArgs.put(DNNL_ARG_SRC, source);
            forwardArgs.put(DNNL_ARG_DST, output);
        }

        void forward(INDArray in, INDArray out, stream s) {
            source.set_data_handle(OneDnn.address(in));
            output.set_data_handle(OneDnn.address(out));
            OneDnn.run(forward, s, forwardArgs);
        }

        /**
         * The input gradient from the output gradient {@code delta}: the destination-based primitive, given the input
         * {@code in} as its destination (see the class comment).
         */
        void backward(INDArray in, INDArray delta, INDArray gradAtInput, stream s) {
            if (backward == null) {
                backward = new eltwise_backward(new eltwise_backward.primitive_desc(new eltwise_backward.desc(
                        function.kind(), data, data, function.alpha(), function.beta()), OneDnn.cpu(), forwardDesc));
                outputGradient = OneDnn.unbound(data);
                inputGradient = OneDnn.unbound(data);
                backwardArgs.put(DNNL_ARG_DST, source);
                backwardArgs.put(DNNL_ARG_DIFF_DST, outputGradient);
                backwardArgs.put(DNNL_ARG_DIFF_SRC, inputGradient);
            }
            source.set_data_handle(OneDnn.address(in));
            outputGradient.set_data_handle(OneDnn.address(delta));
            inputGradient.set_data_handle(OneDnn.address(gradAtInput));
            OneDnn.run(backward, s, backwardArgs);
        }

        private static final memory.format_tag[] ROW_MAJOR = {memory.format_tag.a, memory.format_tag.ab,
                memory.format_tag.abc, memory.format_tag.abcd, memory.format_tag.abcde};

    }
}
