package dev.shears.trainer.cpu;

import java.nio.FloatBuffer;
import java.util.Arrays;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.LayerReplacement;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Max pooling for training: the forward pass keeps which element of each window won, and back-propagation sends the
 * output gradient there, without oneDNN.
 *
 * <p>DL4J's pooling layer runs libnd4j's {@code maxpool2d} forward and keeps nothing; its oneDNN helper then copies the
 * layer's input and output gradient before every back-propagation, and libnd4j's {@code maxpool2d_bp} runs the forward
 * pooling again inside oneDNN to find the maxima and reorders the result back to NCHW. On LeNet-5 / Fashion-MNIST
 * (batch 64, one core) the two pooling layers took a quarter of each training iteration, where PyTorch keeps the
 * indices of the maxima from its forward pass. {@link #install} puts in place of each max-pooling layer a subclass of
 * DL4J's own class ({@link Pool}) that, in a training forward pass over 2×2 windows of stride 2, pools image by image
 * on small heap buffers and keeps, for each window, which of its four elements won (two bits in a byte); the
 * back-propagation that follows, once, sends each window's output gradient there and zero elsewhere. Without kept
 * winners for the layer's current input (another window size, a forward pass that met a NaN or an infinity, a
 * back-propagation without its forward pass) it finds each window's maximum again from the input. Evaluation and
 * inference keep DL4J's forward pass (libnd4j's native kernel is faster when no winners are kept).
 *
 * <p>The numbers are DL4J's to the bit, ties and NaN included: libnd4j's kernels (oneDNN's and the built-in one) scan
 * a window in row-major order from {@code -Float.MAX_VALUE} and keep a value only when it is strictly greater, so the
 * output is the window's first maximum, the gradient goes to it, a NaN never wins, and a window with nothing above
 * {@code -Float.MAX_VALUE} sends its gradient to its first element; so does this class (an image holding a NaN or an
 * infinity is pooled forward by DL4J). It covers NCHW float max pooling without padding or dilation, in the Truncate
 * and Strict modes, with windows that do not overlap (kernel no larger than the stride, as in LeNet's 2×2 pooling of
 * stride 2); every other layer, and every other call, keeps DL4J's path and the layer's helper. Nothing else changes:
 * the replacement shares the layer's configuration, a checkpoint or a published model names DL4J's class. Like
 * DL4J's layers, one network must not run on two threads at once.
 */
public final class MaxPooling {
    private MaxPooling() {}

    /**
     * Replaces every max-pooling layer of {@code net} by a {@link Pool}; idempotent. Call it after every (re)build of
     * the network's layers (a clone or a deserialised network has DL4J's own).
     *
     * @return how many layers use it
     */
    public static int install(MultiLayerNetwork net) {
        Layer[] layers = net.getLayers();
        int installed = 0;
        for (int i = 0; i < layers.length; i++) {
            Layer layer = layers[i];
            if (layer instanceof Pool) {
                installed++;
            } else if (layer.getClass() == SubsamplingLayer.class
                    && layer.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.SubsamplingLayer conf
                    && conf.getPoolingType() == PoolingType.MAX) {
                LayerReplacement.replace(net, i, new Pool((SubsamplingLayer) layer));
                installed++;
            }
        }
        return installed;
    }

    /** Whether {@code layer} pools with this class. */
    public static boolean installed(Layer layer) {
        return layer instanceof Pool;
    }

    /** How many back-propagations through {@code layer} used the winners its forward pass kept. */
    static long reuses(Layer layer) {
        return layer instanceof Pool p ? p.reuses : 0;
    }

    /** DL4J's max-pooling layer, keeping each window's winner in training for its back-propagation. */
    static final class Pool extends SubsamplingLayer {
        private static final long serialVersionUID = 1L;
        private transient float[] image = new float[0];
        private transient float[] pooled = new float[0];
        private transient float[] gradient = new float[0];
        /** Each window's winner from the last training forward pass, for {@link #keptFor}; null when none. */
        private transient byte[] winners;
        private transient INDArray keptFor;
        private long reuses;

        /** Takes {@code layer}'s place: its configuration, listeners, helper and counters. */
        Pool(SubsamplingLayer layer) {
            super(layer.conf(), layer.getDataType());
            setListeners(layer.getListeners());
            setIndex(layer.getIndex());
            setCacheMode(layer.getCacheMode());
            setIterationCount(layer.getIterationCount());
            setEpochCount(layer.getEpochCount());
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr workspaceMgr) {
            winners = null;
            keptFor = null;
            if (!training || !supported(input)) {
                return super.activate(training, workspaceMgr);
            }
            assertInputSet(false);
            Geometry g = geometry(input);
            if (!g.twoByTwo()) {
                return super.activate(training, workspaceMgr);
            }
            INDArray output = workspaceMgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT,
                    new long[]{g.batch, g.channels, g.outH, g.outW}, 'c');
            INDArray in = contiguous(input);
            FloatBuffer from = in.data().asNioFloat();
            FloatBuffer to = output.data().asNioFloat();
            image = fit(image, g.imageSize());
            pooled = fit(pooled, g.pooledSize());
            byte[] won = new byte[g.batch * g.pooledSize()];
            for (int n = 0; n < g.batch; n++) {
                from.get((int) in.offset() + n * g.imageSize(), image, 0, g.imageSize());
                if (!g.forward2x2(image, pooled, won, n * g.pooledSize())) {
                    return super.activate(true, workspaceMgr); // a NaN or an infinity: DL4J's pooling
                }
                to.put((int) output.offset() + n * g.pooledSize(), pooled, 0, g.pooledSize());
            }
            winners = won;
            keptFor = input;
            return output;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr workspaceMgr) {
            byte[] won = keptFor == input ? winners : null;
            winners = null;
            keptFor = null;
            if (!supported(input) || epsilon.dataType() != DataType.FLOAT) {
                return super.backpropGradient(epsilon, workspaceMgr);
            }
            assertInputSet(true);
            Geometry g = geometry(input);
            if (epsilon.rank() != 4 || epsilon.size(0) != g.batch || epsilon.size(1) != g.channels
                    || epsilon.size(2) != g.outH || epsilon.size(3) != g.outW) {
                return super.backpropGradient(epsilon, workspaceMgr); // DL4J's error
            }
            INDArray gradAtInput = workspaceMgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT,
                    input.shape(), 'c');
            INDArray in = won == null ? contiguous(input) : null;
            INDArray eps = contiguous(epsilon);
            FloatBuffer from = in == null ? null : in.data().asNioFloat();
            FloatBuffer epsBuffer = eps.data().asNioFloat();
            FloatBuffer to = gradAtInput.data().asNioFloat();
            if (won == null) {
                image = fit(image, g.imageSize());
            }
            pooled = fit(pooled, g.pooledSize());
            gradient = fit(gradient, g.imageSize());
            for (int n = 0; n < g.batch; n++) {
                epsBuffer.get((int) eps.offset() + n * g.pooledSize(), pooled, 0, g.pooledSize());
                if (won != null) {
                    g.backward2x2(won, n * g.pooledSize(), pooled, gradient);
                } else {
                    from.get((int) in.offset() + n * g.imageSize(), image, 0, g.imageSize());
                    g.backward(image, pooled, gradient);
                }
                to.put((int) gradAtInput.offset() + n * g.imageSize(), gradient, 0, g.imageSize());
            }
            if (won != null) {
                reuses++;
            }
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
                    || x.rank() != 4 || mode == ConvolutionMode.Same || mode == ConvolutionMode.Causal
                    || pad[0] != 0 || pad[1] != 0 || dilation[0] != 1 || dilation[1] != 1
                    || kernel[0] < 1 || kernel[1] < 1 || kernel[0] > strides[0] || kernel[1] > strides[1]
                    || kernel[0] > x.size(2) || kernel[1] > x.size(3) || x.length() > Integer.MAX_VALUE) {
                return false;
            }
            // Strict mode: DL4J's own path reports a size the windows do not tile
            return mode != ConvolutionMode.Strict
                    || ((x.size(2) - kernel[0]) % strides[0] == 0 && (x.size(3) - kernel[1]) % strides[1] == 0);
        }

        private Geometry geometry(INDArray x) {
            return new Geometry(x, layerConf().getKernelSize(), layerConf().getStride());
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

        /** Whether the windows are 2×2 with stride 2, the ones the forward pass keeps winners for. */
        boolean twoByTwo() {
            return kH == 2 && kW == 2 && sH == 2 && sW == 2;
        }

        /**
         * One image's 2×2 pooling of stride 2: each window's first maximum into {@code z}, and which element it is into
         * {@code won} from {@code at} on (bit 1: the bottom row, bit 0: the right column). It picks the element as
         * {@link #backward2x2} does, without a branch on the data, so the output has the winner's bits.
         *
         * @return false, leaving {@code z} and {@code won} to be written again, when an input is NaN or infinite
         */
        boolean forward2x2(float[] x, float[] z, byte[] won, int at) {
            final int width = w;
            int special = 0;
            int o = 0;
            for (int c = 0; c < channels; c++) {
                for (int i = 0; i < outH; i++) {
                    int r = (c * h + 2 * i) * width;
                    for (int j = 0; j < outW; j++, r += 2, o++) {
                        int aBits = Float.floatToRawIntBits(x[r]);
                        int bBits = Float.floatToRawIntBits(x[r + 1]);
                        int cBits = Float.floatToRawIntBits(x[r + width]);
                        int dBits = Float.floatToRawIntBits(x[r + width + 1]);
                        special |= ((aBits & EXPONENT) + EXPONENT_CARRY) | ((bBits & EXPONENT) + EXPONENT_CARRY)
                                | ((cBits & EXPONENT) + EXPONENT_CARRY) | ((dBits & EXPONENT) + EXPONENT_CARRY);
                        int right = Float.floatToRawIntBits((x[r] - x[r + 1]) + 0f) >>> 31;
                        int bottomRight = Float.floatToRawIntBits((x[r + width] - x[r + width + 1]) + 0f) >>> 31;
                        int top = aBits ^ ((aBits ^ bBits) & -right);
                        int bottom = cBits ^ ((cBits ^ dBits) & -bottomRight);
                        int down = Float.floatToRawIntBits((Float.intBitsToFloat(top) - Float.intBitsToFloat(bottom))
                                + 0f) >>> 31;
                        z[o] = Float.intBitsToFloat(top ^ ((top ^ bottom) & -down));
                        won[at + o] = (byte) ((down << 1) | (right ^ ((right ^ bottomRight) & -down)));
                    }
                }
            }
            return special >= 0;
        }

        /** One image's input gradient from the winners {@link #forward2x2} kept from {@code at} on. */
        void backward2x2(byte[] won, int at, float[] dz, float[] dx) {
            Arrays.fill(dx, 0, imageSize(), 0f);
            final int width = w;
            int o = 0;
            for (int c = 0; c < channels; c++) {
                for (int i = 0; i < outH; i++) {
                    int r = (c * h + 2 * i) * width;
                    for (int j = 0; j < outW; j++, r += 2, o++) {
                        int k = won[at + o];
                        dx[r + (width & -(k >> 1)) + (k & 1)] = dz[o];
                    }
                }
            }
        }

        /** One image's input gradient: each window's output gradient to its first maximum, zero elsewhere. */
        void backward(float[] x, float[] dz, float[] dx) {
            if (twoByTwo() && backward2x2(x, dz, dx)) {
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
