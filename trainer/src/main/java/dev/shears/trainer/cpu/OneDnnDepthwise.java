package dev.shears.trainer.cpu;

import dev.shears.trainer.cpu.OneDnnConvolution.Filter;
import dev.shears.trainer.cpu.OneDnnConvolution.Plan;
import java.util.List;
import java.util.Map;
import org.bytedeco.dnnl.stream;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.multilayer.LayerReplacement;
import org.deeplearning4j.nn.params.DepthwiseConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.util.ConvolutionUtils;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Depthwise convolution (MobileNet's) on oneDNN primitives made once per layer and input shape, as
 * {@link OneDnnConvolution} does for plain convolutions.
 *
 * <p>DL4J's depthwise layer has no helper: every forward pass runs libnd4j's {@code depthwise_conv2d}, and every
 * back-propagation first runs that forward pass again (to have the pre-activations its activation's derivative needs,
 * even when the activation is the identity, as in MobileNetV2) and then libnd4j's {@code depthwise_conv2d_bp}.
 * {@link #SWAP} puts in place of each depthwise layer a subclass of DL4J's own class ({@link Depthwise}) that runs
 * oneDNN's grouped convolution (one group per input channel) forward, backward-weights and backward-data primitives,
 * kept per input shape, with activations in oneDNN's blocked layout ({@link OneDnnConvolution.Filter#depthwise}), and
 * back-propagates an identity activation without the second forward pass. MobileNetV2 / Fashion-MNIST (width 0.35,
 * batch 128, one core) trained 1.24 times as fast per CPU-second with it (README, What was tried).
 *
 * <p>The numbers are oneDNN's, up to float rounding (another kernel sums in another order), and the same on every run
 * on a fixed number of threads. It covers NCHW float depthwise convolutions with or without a bias, any kernel,
 * stride, padding, dilation and depth multiplier, in every {@link ConvolutionMode}; every other call keeps DL4J's path.
 * The CPU backend only, and only where oneDNN's presets load ({@link OneDnn#available()}). Nothing else changes: the
 * replacement shares the layer's configuration, parameters, gradient views and updater state, and a checkpoint or a
 * published model names DL4J's classes. Like DL4J's layers, one network must not run on two threads at once.
 */
public final class OneDnnDepthwise {
    /** Input shapes whose primitives a layer keeps. */
    static final int PLANS = 4;

    /** Puts a {@link Depthwise} in place of every depthwise convolution layer. */
    public static final LayerSwap SWAP = new LayerSwap(l -> l.getClass() == DepthwiseConvolution2DLayer.class,
            l -> new Depthwise((DepthwiseConvolution2DLayer) l), Depthwise.class);

    private OneDnnDepthwise() {}

    /** DL4J's depthwise convolution layer, on kept oneDNN primitives where they apply. */
    static final class Depthwise extends DepthwiseConvolution2DLayer {
        private static final long serialVersionUID = 1L;
        private final transient stream stream = new stream(OneDnn.cpu());
        private final transient Map<List<Long>, Plan> plans = OneDnn.recentPlans(PLANS, plan -> {});

        /** Takes {@code layer}'s place: its configuration, parameters, gradient views, listeners and counters. */
        Depthwise(DepthwiseConvolution2DLayer layer) {
            super(layer.conf(), layer.getParam(DepthwiseConvolutionParamInitializer.WEIGHT_KEY).dataType());
            LayerReplacement.takeState(layer, this);
        }

        @Override
        protected Pair<INDArray, INDArray> preOutput(boolean training, boolean forBackprop,
                LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(false);
            INDArray weights = getParamWithNoise(DepthwiseConvolutionParamInitializer.WEIGHT_KEY, training,
                    workspaceMgr);
            INDArray bias = layerConf().hasBias()
                    ? getParamWithNoise(DepthwiseConvolutionParamInitializer.BIAS_KEY, training, workspaceMgr)
                    : null;
            if (!supported(weights, bias)) {
                return super.preOutput(training, forBackprop, workspaceMgr);
            }
            Plan plan = plan(weights, bias != null);
            INDArray output = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT,
                    plan.outputShape, 'c');
            plan.forward(OneDnn.contiguous(input), OneDnn.contiguous(weights),
                    bias == null ? null : OneDnn.contiguous(bias), output, workspaceMgr, stream);
            return new Pair<>(output, null);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            assertInputSet(true);
            INDArray weights = getParamWithNoise(DepthwiseConvolutionParamInitializer.WEIGHT_KEY, true, workspaceMgr);
            INDArray bias = layerConf().hasBias()
                    ? getParamWithNoise(DepthwiseConvolutionParamInitializer.BIAS_KEY, true, workspaceMgr)
                    : null;
            INDArray weightGradView = gradientViews.get(DepthwiseConvolutionParamInitializer.WEIGHT_KEY);
            INDArray biasGradView = gradientViews.get(DepthwiseConvolutionParamInitializer.BIAS_KEY);
            if (!supported(weights, bias) || epsilon.dataType() != DataType.FLOAT
                    || (bias != null && biasGradView == null)) {
                return super.backpropGradient(epsilon, workspaceMgr);
            }
            Plan plan = plan(weights, bias != null);
            IActivation activation = layerConf().getActivationFn();
            INDArray delta = activation instanceof ActivationIdentity ? epsilon
                    : activation.backprop(preOutput(true, true, workspaceMgr).getFirst(), epsilon).getFirst();
            INDArray inputGrad = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
                    input.shape(), 'c');
            INDArray weightGrad = OneDnn.contiguous(weightGradView);
            INDArray biasGrad = bias == null ? null : OneDnn.contiguous(biasGradView);
            plan.backward(OneDnn.contiguous(input), OneDnn.contiguous(weights), OneDnn.contiguous(delta), weightGrad,
                    biasGrad, inputGrad, workspaceMgr, stream);
            Gradient gradient = new DefaultGradient();
            if (bias != null) {
                if (biasGrad != biasGradView) {
                    biasGradView.assign(biasGrad);
                }
                gradient.setGradientFor(DepthwiseConvolutionParamInitializer.BIAS_KEY, biasGradView);
            }
            if (weightGrad != weightGradView) {
                weightGradView.assign(weightGrad);
            }
            gradient.setGradientFor(DepthwiseConvolutionParamInitializer.WEIGHT_KEY, weightGradView, 'c');
            weightNoiseParams.clear();
            return new Pair<>(gradient, backpropDropOutIfPresent(inputGrad));
        }

        private boolean supported(INDArray weights, INDArray bias) {
            return layerConf().getCnn2dDataFormat() == CNN2DFormat.NCHW && input.rank() == 4
                    && input.dataType() == DataType.FLOAT && weights.rank() == 4
                    && weights.dataType() == DataType.FLOAT && input.size(1) == weights.size(2)
                    && (bias == null || (bias.dataType() == DataType.FLOAT
                            && bias.length() == weights.size(2) * weights.size(3)));
        }

        private Plan plan(INDArray weights, boolean withBias) {
            int[] kernel = layerConf().getKernelSize();
            int[] strides = layerConf().getStride();
            int[] dilation = layerConf().getDilation();
            int[] pad;
            if (convolutionMode == ConvolutionMode.Same) {
                int[] out = ConvolutionUtils.getOutputSize(input, kernel, strides, null, convolutionMode, dilation,
                        CNN2DFormat.NCHW);
                pad = ConvolutionUtils.getSameModeTopLeftPadding(out,
                        new int[]{(int) input.size(2), (int) input.size(3)}, kernel, strides, dilation);
            } else {
                pad = layerConf().getPadding();
            }
            return Plan.of(plans, input, Filter.depthwise(weights.shape()), withBias, kernel, strides, pad,
                    convolutionMode, dilation);
        }
    }
}
