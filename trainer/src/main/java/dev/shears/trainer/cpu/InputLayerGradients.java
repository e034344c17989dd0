package dev.shears.trainer.cpu;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelperAccess;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.layers.convolution.Conv2D;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Training without the gradient nobody reads: the one with respect to the network's input.
 *
 * <p>DL4J back-propagates through every layer down to the first and computes the first layer's
 * input gradient too, which {@code fit} then throws away. For a first convolution on a
 * single-channel image (LeNet-5's conv1: 1 → 6 channels, 5×5, 28×28) that is the costliest op of a
 * whole training iteration: oneDNN's backward-data convolution with one input channel took 8.8 ms
 * of a {@code conv2d_bp} of 64 images on one core, where the weight gradient alone, computed as a
 * forward convolution, takes under 2 ms. PyTorch skips it because its input does not require a
 * gradient.
 *
 * <p>{@link #skip(MultiLayerNetwork)} makes the network's first layer, when that is a plain 2-D
 * convolution, compute only its weight and bias gradients: on {@link OneDnnConvolution}'s helper by
 * leaving out its backward-data primitive; on DL4J's oneDNN helper by wrapping it so that the
 * weight gradient is the correlation of the input with the output gradient, one oneDNN forward
 * convolution (the batch as channels, the output gradient as the kernel):
 *
 * <pre>
 *   dW[o, c, i, j] = Σ_n Σ_y Σ_x  dZ[n, o, y, x] · X_padded[n, c, y + i, x + j]
 * </pre>
 *
 * (stride and dilation 1; other shapes keep DL4J's own path). The bias gradient is the sum of
 * {@code dZ} over batch and space. The values are those of DL4J's path up to float rounding.
 *
 * <p>The input gradient it returns instead is an array of NaN: {@code fit} drops it, and anyone who
 * asks a network prepared this way for input gradients ({@code MultiLayerNetwork.backpropGradient}
 * of external errors) gets an unmistakable answer rather than wrong numbers. Call it on networks
 * that are trained, after every (re)build: a clone or a deserialised network has DL4J's helpers
 * again. The CPU backend only: on CUDA the helper is cuDNN's and is left as it is.
 */
public final class InputLayerGradients {
    private InputLayerGradients() {}

    /**
     * Makes the network's first layer skip its input gradient when it is a convolution on oneDNN
     * ({@link OneDnnConvolution}'s helper or DL4J's); idempotent.
     *
     * @return whether the first layer now skips it
     */
    public static boolean skip(MultiLayerNetwork net) {
        return net.getnLayers() > 0 && skip(net.getLayer(0));
    }

    /**
     * As {@link #skip(MultiLayerNetwork)}, for every layer of {@code graph} that reads only the network's inputs;
     * idempotent.
     *
     * @return how many layers now skip it
     */
    public static int skip(ComputationGraph graph) {
        List<String> inputs = graph.getConfiguration().getNetworkInputs();
        int skipped = 0;
        for (Map.Entry<String, List<String>> e : graph.getConfiguration().getVertexInputs().entrySet()) {
            Layer layer = graph.getLayer(e.getKey());
            if (layer != null && inputs.containsAll(e.getValue()) && skip(layer)) {
                skipped++;
            }
        }
        return skipped;
    }

    private static boolean skip(Layer layer) {
        if (!(layer instanceof ConvolutionLayer conv) || conv.getClass() != ConvolutionLayer.class) {
            return false;
        }
        if (OneDnnConvolution.skipInputGradient(conv)) {
            return true;
        }
        ConvolutionHelper helper = ConvolutionHelperAccess.get(conv);
        if (helper instanceof WeightGradientsOnly) {
            return true;
        }
        if (!(helper instanceof MKLDNNConvHelper)) {
            return false;
        }
        ConvolutionHelperAccess.set(conv, new WeightGradientsOnly(helper));
        return true;
    }

    /** Whether {@link #skip} is in force on the network's first layer. */
    public static boolean skipped(MultiLayerNetwork net) {
        return net.getnLayers() > 0 && net.getLayer(0) instanceof ConvolutionLayer conv
                && (ConvolutionHelperAccess.get(conv) instanceof WeightGradientsOnly
                        || OneDnnConvolution.skipsInputGradient(conv));
    }

    /** The oneDNN helper, but back-propagation yields the parameters' gradients only. */
    static final class WeightGradientsOnly implements ConvolutionHelper {
        private final ConvolutionHelper inner;
        private final NaNGradient noInputGradient = new NaNGradient();

        WeightGradientsOnly(ConvolutionHelper inner) {
            this.inner = inner;
        }

        @Override
        public boolean checkSupported() {
            return inner.checkSupported();
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias,
                INDArray delta, int[] kernel, int[] strides, int[] pad, INDArray biasGradView, INDArray weightGradView,
                IActivation afn, org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode mode,
                org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdFilterAlgo bwdFilterAlgo,
                org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdDataAlgo bwdDataAlgo,
                ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
            if (!supported(input, delta, kernel, strides, pad, dilation, convolutionMode, format)) {
                return inner.backpropGradient(input, weights, bias, delta, kernel, strides, pad, biasGradView,
                        weightGradView, afn, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode, dilation, format,
                        workspaceMgr);
            }
            long batch = input.size(0);
            long channels = input.size(1);
            long outChannels = delta.size(1);
            // The batch becomes the channels: X as [c, n, h, w], dZ as the kernel [o, n, y, x].
            INDArray images = channels == 1 ? input.reshape('c', 1, batch, input.size(2), input.size(3))
                    : input.permute(1, 0, 2, 3).dup('c');
            // A permuted view, not a copy: oneDNN reads it through its strides while it reorders the kernel into its
            // own blocked layout, which it does for a dense copy too (a copy cost as much as the convolution itself).
            INDArray kernelOfGradients = delta.permute(1, 0, 2, 3);
            INDArray correlation = workspaceMgr.createUninitialized(
                    org.deeplearning4j.nn.workspace.ArrayType.BP_WORKING_MEM, weights.dataType(),
                    channels, outChannels, kernel[0], kernel[1]);
            Conv2DConfig config = Conv2DConfig.builder().kH(delta.size(2)).kW(delta.size(3)).sH(1).sW(1)
                    .pH(pad[0]).pW(pad[1]).dH(1).dW(1).paddingMode(PaddingMode.VALID).dataFormat("NCHW")
                    .weightsFormat(WeightsFormat.OIYX).build();
            Nd4j.exec(new Conv2D(new INDArray[]{images, kernelOfGradients}, new INDArray[]{correlation}, config));
            weightGradView.assign(correlation.permute(1, 0, 2, 3));
            Gradient g = new DefaultGradient();
            if (biasGradView != null) {
                biasGradView.assign(delta.sum(0, 2, 3).reshape(biasGradView.shape()));
                g.gradientForVariable().put(ConvolutionParamInitializer.BIAS_KEY, biasGradView);
            }
            g.gradientForVariable().put(ConvolutionParamInitializer.WEIGHT_KEY, weightGradView);
            return new Pair<>(g, noInputGradient.like(input));
        }

        /** Stride and dilation 1, explicit symmetric padding, NCHW floats, and an output gradient of the exact size. */
        private static boolean supported(INDArray input, INDArray delta, int[] kernel, int[] strides, int[] pad,
                int[] dilation, ConvolutionMode mode, CNN2DFormat format) {
            return format == CNN2DFormat.NCHW && mode != ConvolutionMode.Same && input.dataType() == DataType.FLOAT
                    && delta.dataType() == DataType.FLOAT && input.rank() == 4 && strides[0] == 1 && strides[1] == 1
                    && dilation[0] == 1 && dilation[1] == 1
                    && input.size(2) + 2L * pad[0] - delta.size(2) + 1 == kernel[0]
                    && input.size(3) + 2L * pad[1] - delta.size(3) + 1 == kernel[1];
        }

        @Override
        public INDArray preOutput(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides,
                int[] pad, org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode mode,
                org.deeplearning4j.nn.conf.layers.ConvolutionLayer.FwdAlgo fwdAlgo, ConvolutionMode convolutionMode,
                int[] dilation, CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
            return inner.preOutput(input, weights, bias, kernel, strides, pad, mode, fwdAlgo, convolutionMode,
                    dilation, format, workspaceMgr);
        }

        @Override
        public INDArray activate(INDArray z, IActivation afn, boolean training) {
            return inner.activate(z, afn, training);
        }

        @Override
        public Map<String, Long> helperMemoryUse() {
            return inner.helperMemoryUse();
        }
    }
}
