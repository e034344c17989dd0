package dev.shears.trainer.cpu;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingHelper;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingHelperAccess;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Max pooling's back-propagation in one sweep over the input, without oneDNN.
 *
 * <p>DL4J's oneDNN pooling helper copies the layer's input and output gradient before every back-propagation, and
 * libnd4j's {@code maxpool2d_bp} then runs the forward pooling again inside oneDNN to find the maxima and reorders
 * the result back to NCHW. On LeNet-5 / Fashion-MNIST (batch 64, one core) the two pooling layers' back-propagation
 * took a fifth of each training iteration, several times PyTorch's, which keeps the indices of the maxima from its
 * forward pass. {@link #install} gives a network's max-pooling layers a helper that, image by image on small heap
 * buffers, finds each window's maximum again and sends the window's output gradient to it, every other input
 * getting zero. It keeps nothing from the forward pass, so whatever ran in between (an evaluation, another batch)
 * cannot make it stale. The forward pass stays DL4J's ({@code SubsamplingLayer} does not ask its helper for it).
 *
 * <p>The gradient is DL4J's to the bit, ties and NaN included: libnd4j's kernels (oneDNN's and the built-in one)
 * scan a window in row-major order from {@code -Float.MAX_VALUE} and keep a value only when it is strictly greater,
 * so the gradient goes to the first maximum, a NaN never wins, and a window with nothing above
 * {@code -Float.MAX_VALUE} sends it to its first element; so does this one. It covers NCHW float max pooling without
 * padding or dilation, in the Truncate and Strict modes, with windows that do not overlap (kernel no larger than the
 * stride, as in LeNet's 2×2 pooling of stride 2); every other layer keeps the helper it had, or DL4J's built-in
 * path. Like DL4J's helpers, one network must not run on two threads at once.
 */
public final class MaxPooling {
    private MaxPooling() {}

    /**
     * Gives every max-pooling layer of {@code net} this pooling; idempotent. Call it after every (re)build of the
     * network's layers (a clone or a deserialised network has DL4J's helpers again).
     *
     * @return how many layers use it
     */
    public static int install(MultiLayerNetwork net) {
        int installed = 0;
        for (Layer layer : net.getLayers()) {
            if (layer.getClass() != SubsamplingLayer.class
                    || !(layer.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.SubsamplingLayer conf)
                    || conf.getPoolingType() != PoolingType.MAX) {
                continue;
            }
            SubsamplingLayer pooling = (SubsamplingLayer) layer;
            SubsamplingHelper helper = SubsamplingHelperAccess.get(pooling);
            if (!(helper instanceof Helper)) {
                SubsamplingHelperAccess.set(pooling, new Helper(helper));
            }
            installed++;
        }
        return installed;
    }

    /** Whether {@code layer} pools with this class's helper. */
    public static boolean installed(Layer layer) {
        return layer instanceof SubsamplingLayer pooling && SubsamplingHelperAccess.get(pooling) instanceof Helper;
    }

    /** The helper: this pooling where it applies, the layer's former helper (or DL4J's built-in path) elsewhere. */
    static final class Helper implements SubsamplingHelper {
        /** The helper it replaced, or null for DL4J's built-in path. */
        private final SubsamplingHelper inner;
        private float[] image = new float[0];
        private float[] outputGradient = new float[0];
        private float[] gradient = new float[0];

        Helper(SubsamplingHelper inner) {
            this.inner = inner;
        }

        @Override
        public boolean checkSupported() {
            return true;
        }

        /** DL4J's forward pass: the layer's former helper, or DL4J's built-in path. */
        @Override
        public INDArray activate(INDArray input, boolean training, int[] kernel, int[] strides, int[] pad,
                PoolingType poolingType, ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format,
                LayerWorkspaceMgr workspaceMgr) {
            return inner == null ? null : inner.activate(input, training, kernel, strides, pad, poolingType,
                    convolutionMode, dilation, format, workspaceMgr);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray epsilon, int[] kernel,
                int[] strides, int[] pad, PoolingType poolingType, ConvolutionMode convolutionMode, int[] dilation,
                CNN2DFormat format, LayerWorkspaceMgr workspaceMgr) {
            if (!supported(input, kernel, strides, pad, poolingType, convolutionMode, dilation, format)
                    || epsilon.dataType() != DataType.FLOAT) {
                return inner == null ? null : inner.backpropGradient(input, epsilon, kernel, strides, pad,
                        poolingType, convolutionMode, dilation, format, workspaceMgr);
            }
            Geometry g = new Geometry(input, kernel, strides);
            INDArray gradAtInput = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
                    input.shape(), 'c');
            input = contiguous(input);
            epsilon = contiguous(epsilon);
            FloatBuffer in = input.data().asNioFloat();
            FloatBuffer eps = epsilon.data().asNioFloat();
            FloatBuffer out = gradAtInput.data().asNioFloat();
            image = fit(image, g.imageSize());
            outputGradient = fit(outputGradient, g.pooledSize());
            gradient = fit(gradient, g.imageSize());
            for (int n = 0; n < g.batch; n++) {
                in.get((int) input.offset() + n * g.imageSize(), image, 0, g.imageSize());
                eps.get((int) epsilon.offset() + n * g.pooledSize(), outputGradient, 0, g.pooledSize());
                g.backward(image, outputGradient, gradient);
                out.put((int) gradAtInput.offset() + n * g.imageSize(), gradient, 0, g.imageSize());
            }
            return new Pair<>(new DefaultGradient(), gradAtInput);
        }

        @Override
        public Map<String, Long> helperMemoryUse() {
            return Map.of("scratch", 4L * (image.length + outputGradient.length + gradient.length));
        }

        private static boolean supported(INDArray input, int[] kernel, int[] strides, int[] pad,
                PoolingType poolingType, ConvolutionMode mode, int[] dilation, CNN2DFormat format) {
            return poolingType == PoolingType.MAX && format == CNN2DFormat.NCHW && mode != ConvolutionMode.Same
                    && input.dataType() == DataType.FLOAT && input.rank() == 4
                    && pad[0] == 0 && pad[1] == 0 && dilation[0] == 1 && dilation[1] == 1
                    && kernel[0] >= 1 && kernel[1] >= 1 && kernel[0] <= strides[0] && kernel[1] <= strides[1]
                    && kernel[0] <= input.size(2) && kernel[1] <= input.size(3)
                    && input.length() <= Integer.MAX_VALUE;
        }

        private static INDArray contiguous(INDArray a) {
            return a.ordering() == 'c' && a.elementWiseStride() == 1 ? a : a.dup('c');
        }

        private static float[] fit(float[] buffer, int size) {
            return buffer.length >= size ? buffer : new float[size];
        }
    }

    /** The shapes of one call, and the back-propagation through one image (all its channels). */
    static final class Geometry {
        /** A float's exponent bits, and what added to them carries into the sign bit when they are all ones. */
        private static final int EXPONENT = 0x7f800000;
        private static final int EXPONENT_CARRY = 0x00800000;

        final int batch;
        final int channels;
        final int h;
        final int w;
        final int kH;
        final int kW;
        final int sH;
        final int sW;
        final int outH;
        final int outW;

        Geometry(INDArray input, int[] kernel, int[] strides) {
            batch = (int) input.size(0);
            channels = (int) input.size(1);
            h = (int) input.size(2);
            w = (int) input.size(3);
            kH = kernel[0];
            kW = kernel[1];
            sH = strides[0];
            sW = strides[1];
            outH = (h - kH) / sH + 1;
            outW = (w - kW) / sW + 1;
        }

        int imageSize() {
            return channels * h * w;
        }

        int pooledSize() {
            return channels * outH * outW;
        }

        /** One image's input gradient: each window's output gradient to its first maximum, zero elsewhere. */
        void backward(float[] x, float[] dz, float[] dx) {
            if (kH == 2 && kW == 2 && sH == 2 && sW == 2 && backward2x2(x, dz, dx)) {
                return;
            }
            Arrays.fill(dx, 0, imageSize(), 0f);
            int o = 0;
            for (int c = 0; c < channels; c++) {
                for (int i = 0; i < outH; i++) {
                    int r = (c * h + i * sH) * w;
                    for (int j = 0; j < outW; j++, r += sW) {
                        dx[first(x, r)] = dz[o++];
                    }
                }
            }
        }

        /** libnd4j's choice: the first element strictly above all before it, starting from -Float.MAX_VALUE. */
        private int first(float[] x, int r) {
            float m = -Float.MAX_VALUE;
            int best = r;
            for (int a = 0; a < kH; a++) {
                for (int b = 0; b < kW; b++) {
                    int at = r + a * w + b;
                    if (x[at] > m) {
                        m = x[at];
                        best = at;
                    }
                }
            }
            return best;
        }

        /**
         * {@link #backward} for 2×2 windows of stride 2 where every input is finite, without a branch on the data: a
         * branch per comparison mispredicts on real activations (ties at zero, noise) and cost 2 to 3 times as much.
         * For finite {@code p} and {@code q}, {@code q > p} exactly when {@code (p - q) + 0f} has its sign bit set
         * (the difference of distinct floats is never zero, overflow keeps the sign, and {@code + 0f} turns the
         * {@code -0f} of {@code -0f - 0f} into {@code 0f}), so the window's first maximum, {@link #first}'s element,
         * comes from the two pairs' and then the winners' sign bits, and the winners are picked by masking bits. The
         * gradient goes with one store into a cleared image.
         *
         * @return false, leaving {@code dx} to be written again, when an input is NaN or infinite
         */
        private boolean backward2x2(float[] x, float[] dz, float[] dx) {
            Arrays.fill(dx, 0, imageSize(), 0f);
            final int width = w;
            int special = 0;
            int o = 0;
            for (int c = 0; c < channels; c++) {
                for (int i = 0; i < outH; i++) {
                    int r = (c * h + 2 * i) * width;
                    for (int j = 0; j < outW; j++, r += 2) {
                        float a = x[r];
                        float b = x[r + 1];
                        float cc = x[r + width];
                        float d = x[r + width + 1];
                        int aBits = Float.floatToRawIntBits(a);
                        int bBits = Float.floatToRawIntBits(b);
                        int cBits = Float.floatToRawIntBits(cc);
                        int dBits = Float.floatToRawIntBits(d);
                        // an exponent of all ones (NaN, infinity) carries into the sign bit
                        special |= ((aBits & EXPONENT) + EXPONENT_CARRY) | ((bBits & EXPONENT) + EXPONENT_CARRY)
                                | ((cBits & EXPONENT) + EXPONENT_CARRY) | ((dBits & EXPONENT) + EXPONENT_CARRY);
                        int right = Float.floatToRawIntBits((a - b) + 0f) >>> 31;
                        int bottomRight = Float.floatToRawIntBits((cc - d) + 0f) >>> 31;
                        float top = Float.intBitsToFloat(aBits ^ ((aBits ^ bBits) & -right));
                        float bottom = Float.intBitsToFloat(cBits ^ ((cBits ^ dBits) & -bottomRight));
                        int down = Float.floatToRawIntBits((top - bottom) + 0f) >>> 31;
                        int column = right ^ ((right ^ bottomRight) & -down);
                        dx[r + (width & -down) + column] = dz[o++];
                    }
                }
            }
            return special >= 0;
        }
    }
}
