package dev.shears.trainer.cpu;

import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DIFF_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_DST;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_MEAN;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SCALE;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SHIFT;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_SRC;
import static org.bytedeco.dnnl.global.dnnl.DNNL_ARG_VARIANCE;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_global_stats;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_scale;
import static org.bytedeco.dnnl.global.dnnl.dnnl_use_shift;

import dev.shears.trainer.cpu.OneDnn.Operand;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.bytedeco.dnnl.IntMemoryMap;
import org.bytedeco.dnnl.batch_normalization_backward;
import org.bytedeco.dnnl.batch_normalization_forward;
import org.bytedeco.dnnl.global.dnnl.prop_kind;
import org.bytedeco.dnnl.memory;
import org.bytedeco.dnnl.primitive;
import org.bytedeco.dnnl.stream;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelperAccess;
import org.deeplearning4j.nn.params.BatchNormalizationParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Batch normalization on oneDNN primitives made once per layer and input shape, the batch's mean and variance computed
 * by oneDNN's own pass.
 *
 * <p>DL4J's oneDNN helper computes the batch's mean and variance with libnd4j's reductions over dimensions 0, 2 and 3
 * of the NCHW array (a strided pass per channel), then runs libnd4j's {@code batchnorm}, which builds oneDNN's primitive
 * anew, with them as given statistics; its back-propagation, libnd4j's {@code batchnorm_bp}, reduces and broadcasts
 * again around oneDNN's. On ResNet-20 / Fashion-MNIST (batch 128, one core) that was half of every training iteration.
 * {@link #install} gives each batch-normalization layer that DL4J gave its oneDNN helper a helper ({@link Helper}) whose
 * training forward pass runs oneDNN's {@code forward_training} batch normalization on the NCHW array, writing the
 * batch's mean and (biased, as DL4J's) variance where the layer reads them to update its running averages, and whose
 * back-propagation runs oneDNN's backward batch normalization from that mean and variance. Inference runs oneDNN's
 * {@code forward_inference} with the layer's running mean and variance. The scale and shift are the layer's gamma and
 * beta, and their gradients are written into DL4J's gradient views, without copies.
 *
 * <p>The primitives take the input in oneDNN's blocked layout where the channels fill its blocks ({@link Plan#layouts}):
 * the NCHW arrays are reordered in and out, and the JIT kernels that layout gets still take about half the time of
 * oneDNN's generic NCHW code.
 *
 * <p>The numbers are DL4J's up to float rounding (oneDNN sums the statistics in another order than libnd4j). It covers
 * float NCHW arrays (rank 4, and dense layers' rank-2 activations, which DL4J reshapes to {@code [n, c, 1, 1]}) with a
 * learnt gamma and beta; every other call goes to the layer's former helper. The CPU backend only, and only where
 * oneDNN's presets load ({@link OneDnn#available()}). Nothing else changes: a checkpoint or a published model names
 * DL4J's class. Like DL4J's layers, a network must not run on two threads at once.
 */
public final class OneDnnBatchNorm {
    /** Input shapes whose primitives a layer keeps. */
    static final int PLANS = 4;

    private OneDnnBatchNorm() {}

    /**
     * Gives every batch-normalization layer among {@code layers} (a network's or a graph's {@code getLayers()}) that
     * has DL4J's helper this class's; idempotent. DL4J gives no helper to a layer with a fixed gamma and beta, or when
     * its oneDNN helpers are off: those keep DL4J's own path. Does nothing when oneDNN's API is not available. Call it
     * after every (re)build of the network's layers (a clone or a deserialised network has DL4J's helpers again).
     *
     * @return how many layers use it
     */
    public static int install(Layer... layers) {
        if (!OneDnn.available()) {
            return 0;
        }
        int installed = 0;
        for (Layer layer : layers) {
            if (layer.getClass() == BatchNormalization.class) {
                BatchNormalization bn = (BatchNormalization) layer;
                BatchNormalizationHelper former = BatchNormalizationHelperAccess.get(bn);
                if (former != null && !(former instanceof Helper)) {
                    BatchNormalizationHelperAccess.set(bn, new Helper(former));
                }
            }
            installed += installed(layer) ? 1 : 0;
        }
        return installed;
    }

    /** Whether {@code layer} normalizes with this class's helper. */
    public static boolean installed(Layer layer) {
        return layer instanceof BatchNormalization bn && BatchNormalizationHelperAccess.get(bn) instanceof Helper;
    }

    /**
     * The helper: cached primitives where they apply, the layer's former helper elsewhere. Between a training forward
     * pass and its back-propagation it holds the batch's mean and variance.
     */
    static final class Helper implements BatchNormalizationHelper {
        private final BatchNormalizationHelper inner;
        private final stream stream = new stream(OneDnn.cpu());
        private final Map<List<Long>, Plan> plans = OneDnn.recentPlans(PLANS, plan -> {});
        private INDArray mean;
        private INDArray variance;
        /** The plan of the last training forward pass, when this helper ran it (null when the former helper did). */
        private Plan trained;

        Helper(BatchNormalizationHelper inner) {
            this.inner = inner;
        }

        @Override
        public boolean checkSupported() {
            return true;
        }

        @Override
        public boolean checkSupported(double eps, boolean fixedGammaBeta) {
            return inner.checkSupported(eps, fixedGammaBeta);
        }

        @Override
        public INDArray preOutput(INDArray x, boolean training, long[] shape, INDArray gamma, INDArray beta,
                INDArray globalMean, INDArray globalVar, double decay, double eps, CNN2DFormat format,
                LayerWorkspaceMgr workspaceMgr) {
            if (training) {
                trained = null;
            }
            if (!supported(x, gamma, beta, format)
                    || (!training && !(vector(globalMean, x.size(1)) && vector(globalVar, x.size(1))))) {
                return inner.preOutput(x, training, shape, gamma, beta, globalMean, globalVar, decay, eps, format,
                        workspaceMgr);
            }
            Plan plan = plan(x, eps, training);
            INDArray output = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, x.shape(), 'c');
            if (training) {
                long channels = x.size(1);
                if (mean == null || mean.length() != channels) {
                    try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                        mean = Nd4j.createUninitialized(DataType.FLOAT, channels);
                        variance = Nd4j.createUninitialized(DataType.FLOAT, channels);
                    }
                }
                plan.forward(OneDnn.contiguous(x), OneDnn.contiguous(gamma), OneDnn.contiguous(beta), mean, variance,
                        output, workspaceMgr, stream);
                trained = plan;
            } else {
                plan.forward(OneDnn.contiguous(x), OneDnn.contiguous(gamma), OneDnn.contiguous(beta),
                        OneDnn.contiguous(globalMean), OneDnn.contiguous(globalVar), output, workspaceMgr, stream);
            }
            return output;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray epsilon, long[] shape,
                INDArray gamma, INDArray beta, INDArray dGammaView, INDArray dBetaView, double eps,
                CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
            Plan plan = trained;
            if (plan == null || !supported(input, gamma, beta, format) || !plan.fits(input, eps)
                    || epsilon.dataType() != DataType.FLOAT || !Arrays.equals(epsilon.shape(), input.shape())
                    || !vector(dGammaView, input.size(1)) || !vector(dBetaView, input.size(1))) {
                return inner.backpropGradient(input, epsilon, shape, gamma, beta, dGammaView, dBetaView, eps, format,
                        workspaceMgr);
            }
            INDArray gradAtInput = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
                    input.shape(), 'c');
            INDArray dGamma = OneDnn.contiguous(dGammaView);
            INDArray dBeta = OneDnn.contiguous(dBetaView);
            plan.backward(OneDnn.contiguous(input), OneDnn.contiguous(epsilon), OneDnn.contiguous(gamma),
                    OneDnn.contiguous(beta), mean, variance, gradAtInput, dGamma, dBeta, workspaceMgr, stream);
            if (dGamma != dGammaView) {
                dGammaView.assign(dGamma);
            }
            if (dBeta != dBetaView) {
                dBetaView.assign(dBeta);
            }
            Gradient g = new DefaultGradient();
            g.setGradientFor(BatchNormalizationParamInitializer.GAMMA, dGammaView);
            g.setGradientFor(BatchNormalizationParamInitializer.BETA, dBetaView);
            return new Pair<>(g, gradAtInput);
        }

        @Override
        public INDArray getMeanCache(DataType dataType) {
            return trained != null ? mean : inner.getMeanCache(dataType);
        }

        @Override
        public INDArray getVarCache(DataType dataType) {
            return trained != null ? variance : inner.getVarCache(dataType);
        }

        @Override
        public Map<String, Long> helperMemoryUse() {
            return Map.of();
        }

        private Plan plan(INDArray x, double eps, boolean training) {
            long[] in = x.shape();
            List<Long> key = List.of(in[0], in[1], in[2], in[3], (long) Float.floatToIntBits((float) eps),
                    training ? 1L : 0L);
            return plans.computeIfAbsent(key, k -> new Plan(in, (float) eps, training));
        }

        /** What this helper normalizes itself: float NCHW images with a learnt gamma and beta, one per channel. */
        private static boolean supported(INDArray x, INDArray gamma, INDArray beta, CNN2DFormat format) {
            return x != null && x.rank() == 4 && x.dataType() == DataType.FLOAT && format == CNN2DFormat.NCHW
                    && vector(gamma, x.size(1)) && vector(beta, x.size(1));
        }

        /** Whether {@code a} holds {@code length} floats (any shape, e.g. DL4J's {@code [1, c]} parameter views). */
        private static boolean vector(INDArray a, long length) {
            return a != null && a.dataType() == DataType.FLOAT && a.length() == length;
        }
    }

    /**
     * oneDNN's batch normalization of one input shape, in the layout {@link #layouts} picks (the NCHW arrays reordered
     * to and from it in DL4J's working memory), gamma, beta and the statistics plain: the forward primitive (training,
     * computing the batch's statistics, or inference, reading the running ones) and, for training, the backward one
     * (made on the first back-propagation).
     */
    static final class Plan {
        private final long[] shape;
        private final float epsilon;
        private final memory.desc data;
        private final batch_normalization_forward.primitive_desc forwardDesc;
        private final primitive forward;
        private final Operand source;
        private final Operand output;
        private final memory scale;
        private final memory shift;
        private final memory mean;
        private final memory variance;
        private final IntMemoryMap forwardArgs = new IntMemoryMap();
        private primitive backward;
        private Operand outputGradient;
        private Operand inputGradient;
        private memory scaleGradient;
        private memory shiftGradient;
        private final IntMemoryMap backwardArgs = new IntMemoryMap();

        Plan(long[] in, float epsilon, boolean training) {
            shape = in.clone();
            this.epsilon = epsilon;
            int flags = dnnl_use_scale | dnnl_use_shift | (training ? 0 : dnnl_use_global_stats);
            int kind = training ? prop_kind.forward_training.value : prop_kind.forward_inference.value;
            batch_normalization_forward.primitive_desc chosen = null;
            memory.desc chosenData = null;
            for (memory.format_tag tag : layouts(shape[1])) {
                memory.desc d = OneDnn.plain(shape, tag);
                batch_normalization_forward.primitive_desc pd = new batch_normalization_forward.primitive_desc(
                        new batch_normalization_forward.desc(kind, d, epsilon, flags), OneDnn.cpu());
                if (tag == memory.format_tag.nchw || pd.impl_info_str().getString().contains("jit")) {
                    chosen = pd;
                    chosenData = d;
                    break;
                }
            }
            forwardDesc = chosen;
            data = chosenData;
            forward = new batch_normalization_forward(forwardDesc);
            source = Operand.input(OneDnn.nchw(shape), data);
            output = Operand.output(OneDnn.nchw(shape), data);
            scale = OneDnn.unbound(channels());
            shift = OneDnn.unbound(channels());
            mean = OneDnn.unbound(channels());
            variance = OneDnn.unbound(channels());
            forwardArgs.put(DNNL_ARG_SRC, source.forPrimitive());
            forwardArgs.put(DNNL_ARG_DST, output.forPrimitive());
            forwardArgs.put(DNNL_ARG_SCALE, scale);
            forwardArgs.put(DNNL_ARG_SHIFT, shift);
            forwardArgs.put(DNNL_ARG_MEAN, mean);
            forwardArgs.put(DNNL_ARG_VARIANCE, variance);
        }

        /**
         * The layouts to try for {@code channels} channels, best first: oneDNN's blocked ones where the channels fill
         * their blocks (16, then 8 a block), then DL4J's own NCHW. A blocked layout is used only where oneDNN has a JIT
         * kernel for it on this CPU.
         *
         * <p>oneDNN 2.5 normalizes NCHW with its generic C++ code ({@code ncsp_bnorm}), and blocked layouts with its JIT
         * kernels: those take 0.35-0.85 of the time on ResNet's and MobileNet's shapes, the reorders to and from NCHW
         * included, and trained ResNet-20 1.13 and MobileNetV2 1.25 times as fast (README, What was tried;
         * {@code dev.shears.bench.BatchNormLayouts}). They sum in float lane by lane, where the generic code is nearly
         * exact: a batch's variance lands 2e-6 to 2e-5 from double precision's instead of 3e-7 to 6e-7, and a
         * training step as far from exact arithmetic as DL4J's own float path. Channels-last ({@code nhwc}) has JIT
         * kernels too, but sums up to 4 times less accurately than the blocked ones and is rarely faster, so channel
         * counts that fill no block keep the generic code.
         */
        static List<memory.format_tag> layouts(long channels) {
            List<memory.format_tag> tags = new ArrayList<>();
            if (channels % 16 == 0) {
                tags.add(memory.format_tag.nChw16c);
            }
            if (channels % 8 == 0) {
                tags.add(memory.format_tag.nChw8c);
            }
            tags.add(memory.format_tag.nchw);
            return tags;
        }

        /** The implementation oneDNN chose for the forward pass, e.g. {@code bnorm_jit:avx512_common}. */
        String implementation() {
            return forwardDesc.impl_info_str().getString();
        }

        /** Whether this plan normalized {@code x} with {@code eps}. */
        boolean fits(INDArray x, double eps) {
            return Arrays.equals(x.shape(), shape) && epsilon == (float) eps;
        }

        /**
         * Normalizes {@code in} into {@code out}: in training, writing the batch's mean and variance into
         * {@code batchMean} and {@code batchVar}; in inference, reading them from there. The layouts' copies go in
         * {@code ws}'s forward working memory.
         */
        void forward(INDArray in, INDArray gamma, INDArray beta, INDArray batchMean, INDArray batchVar, INDArray out,
                LayerWorkspaceMgr ws, stream s) {
            bindShared(in, gamma, beta, batchMean, batchVar, ws, ArrayType.FF_WORKING_MEM);
            output.bind(out, ws, ArrayType.FF_WORKING_MEM);
            source.reorder(s);
            OneDnn.run(forward, s, forwardArgs);
            output.reorder(s);
        }

        /** The input, gamma and beta gradients from {@code delta}, with the training forward pass's statistics. */
        void backward(INDArray in, INDArray delta, INDArray gamma, INDArray beta, INDArray batchMean,
                INDArray batchVar, INDArray gradAtInput, INDArray dGamma, INDArray dBeta, LayerWorkspaceMgr ws,
                stream s) {
            if (backward == null) {
                batch_normalization_backward.primitive_desc desc = new batch_normalization_backward.primitive_desc(
                        new batch_normalization_backward.desc(prop_kind.backward.value, data, data, epsilon,
                                dnnl_use_scale | dnnl_use_shift),
                        OneDnn.cpu(), forwardDesc);
                backward = new batch_normalization_backward(desc);
                outputGradient = Operand.input(OneDnn.nchw(shape), data);
                inputGradient = Operand.output(OneDnn.nchw(shape), data);
                scaleGradient = OneDnn.unbound(channels());
                shiftGradient = OneDnn.unbound(channels());
                backwardArgs.put(DNNL_ARG_SRC, source.forPrimitive());
                backwardArgs.put(DNNL_ARG_MEAN, mean);
                backwardArgs.put(DNNL_ARG_VARIANCE, variance);
                backwardArgs.put(DNNL_ARG_SCALE, scale);
                backwardArgs.put(DNNL_ARG_SHIFT, shift); // not read, but oneDNN 2.5 refuses to run without it
                backwardArgs.put(DNNL_ARG_DIFF_DST, outputGradient.forPrimitive());
                backwardArgs.put(DNNL_ARG_DIFF_SRC, inputGradient.forPrimitive());
                backwardArgs.put(DNNL_ARG_DIFF_SCALE, scaleGradient);
                backwardArgs.put(DNNL_ARG_DIFF_SHIFT, shiftGradient);
            }
            bindShared(in, gamma, beta, batchMean, batchVar, ws, ArrayType.BP_WORKING_MEM);
            outputGradient.bind(delta, ws, ArrayType.BP_WORKING_MEM);
            inputGradient.bind(gradAtInput, ws, ArrayType.BP_WORKING_MEM);
            scaleGradient.set_data_handle(OneDnn.address(dGamma));
            shiftGradient.set_data_handle(OneDnn.address(dBeta));
            source.reorder(s);
            outputGradient.reorder(s);
            OneDnn.run(backward, s, backwardArgs);
            inputGradient.reorder(s);
        }

        /** Points the operands both primitives share at this call's arrays. */
        private void bindShared(INDArray in, INDArray gamma, INDArray beta, INDArray batchMean, INDArray batchVar,
                LayerWorkspaceMgr ws, ArrayType type) {
            source.bind(in, ws, type);
            scale.set_data_handle(OneDnn.address(gamma));
            shift.set_data_handle(OneDnn.address(beta));
            mean.set_data_handle(OneDnn.address(batchMean));
            variance.set_data_handle(OneDnn.address(batchVar));
        }

        private memory.desc channels() {
            return OneDnn.plain(new long[]{shape[1]}, memory.format_tag.a);
        }
    }
}
